import Dispatch
import Glibc
import Synchronization

/// Log lines on their way to a file descriptor (standard output). Lines below `notice`
/// (the access lines) are gathered and written in batches, every 0.1 s or 64 KiB, so a
/// request costs no write(2) and no time-zone lookup; lines at `notice` and above are
/// written at once. Every line starts with its UTC time, formatted once per second.
public final class LogOutput: Sendable {
    public static let standardOutput = LogOutput(fd: STDOUT_FILENO)

    private struct State {
        var pending: [UInt8] = []
        var second = -1
        var stamp: [UInt8] = []
        var timer: DispatchSourceTimer?
    }

    private let fd: Int32
    private let batchLimit: Int
    private let state = Mutex(State())

    public init(fd: Int32, batchLimit: Int = 64 * 1024) {
        self.fd = fd
        self.batchLimit = batchLimit
    }

    /// Adds one line (a newline is appended); `immediately` writes it and everything before it now.
    public func write(level: String, _ text: String, immediately: Bool) {
        state.withLock { state in
            let now = time(nil)
            if now != state.second {
                state.second = now
                state.stamp = Array(UTCTime.format(now, "%Y-%m-%dT%H:%M:%SZ ").utf8)
            }
            state.pending.append(contentsOf: state.stamp)
            state.pending.append(contentsOf: level.utf8)
            state.pending.append(0x20)
            state.pending.append(contentsOf: text.utf8)
            state.pending.append(0x0A)
            if immediately || state.pending.count >= batchLimit {
                drain(&state.pending)
            } else if state.timer == nil {
                state.timer = startTimer()
            }
        }
    }

    /// Writes whatever is waiting (before exit, say).
    public func flush() {
        state.withLock { drain(&$0.pending) }
    }

    private func drain(_ pending: inout [UInt8]) {
        var sent = 0
        pending.withUnsafeBytes { bytes in
            while sent < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + sent, bytes.count - sent)
                if n < 0 && errno == EINTR { continue }
                // A log that cannot be written must not stop the server: drop the batch.
                guard n > 0 else { return }
                sent += n
            }
        }
        pending.removeAll(keepingCapacity: pending.capacity <= 4 * batchLimit)
    }

    private func startTimer() -> DispatchSourceTimer {
        let timer = DispatchSource.makeTimerSource(queue: .global(qos: .utility))
        timer.schedule(deadline: .now() + 0.1, repeating: 0.1, leeway: .milliseconds(20))
        timer.setEventHandler { [weak self] in self?.flush() }
        timer.activate()
        return timer
    }
}
