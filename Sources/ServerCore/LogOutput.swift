import Dispatch
import Glibc
import Synchronization

/// Log lines on their way to a file descriptor (standard output, or `--log-file`). Lines
/// below `notice` (the access lines) are gathered and written in batches, every 0.1 s or
/// 64 KiB, so a request costs no write(2) and no time-zone lookup; lines at `notice` and
/// above are sent at once. Every line starts with its UTC time, formatted once per second.
///
/// Writing happens on the log's own queue, never under the lock a worker takes to add a
/// line: a slow disk or a full pipe stalls only that queue. While more than `pendingLimit`
/// bytes wait, access lines are dropped (counted in `droppedLines`) rather than held.
public final class LogOutput: Sendable {
    public static let standardOutput = LogOutput(fd: STDOUT_FILENO)

    public enum Format: String, Sendable { case text, json }

    private struct State {
        var pending: [UInt8] = []
        var second = -1
        var stamp: [UInt8] = []
        var timer: DispatchSourceTimer?
        /// A drain is queued on `writer` and has not yet taken `pending`.
        var draining = false
    }

    private let fd: Int32
    private let batchLimit: Int
    private let pendingLimit: Int
    public let format: Format
    private let state = Mutex(State())
    private let dropped = Atomic<Int>(0)
    private let writer = DispatchQueue(label: "appserver.log")

    public init(fd: Int32, format: Format = .text, batchLimit: Int = 64 * 1024, pendingLimit: Int = 4 * 1024 * 1024) {
        self.fd = fd
        self.format = format
        self.batchLimit = batchLimit
        self.pendingLimit = pendingLimit
    }

    /// Access lines dropped because the output could not keep up.
    public var droppedLines: Int { dropped.load(ordering: .relaxed) }

    /// Adds one line (a newline is appended); `immediately` sends it and everything before
    /// it to be written now. For `.json`, `text` is the object's fields after time and level.
    public func write(level: String, _ text: String, immediately: Bool) {
        append(level: level, immediately: immediately) { $0.append(contentsOf: text.utf8) }
    }

    /// `write`, with `body` appending the text (or the JSON fields) straight into the
    /// pending bytes under the lock: `AccessLog`'s way, with no String for the line.
    func append(level: String, immediately: Bool, _ body: (inout [UInt8]) -> Void) {
        state.withLock { state in
            if !immediately && state.pending.count >= pendingLimit {
                dropped.add(1, ordering: .relaxed)
                return
            }
            let now = time(nil)
            if now != state.second {
                state.second = now
                state.stamp = Array(UTCTime.format(now, "%Y-%m-%dT%H:%M:%SZ").utf8)
            }
            switch format {
            case .text:
                state.pending.append(contentsOf: state.stamp)
                state.pending.append(0x20)
                state.pending.append(contentsOf: level.utf8)
                state.pending.append(0x20)
                body(&state.pending)
            case .json:
                state.pending.append(contentsOf: #"{"time":""#.utf8)
                state.pending.append(contentsOf: state.stamp)
                state.pending.append(contentsOf: #"","level":""#.utf8)
                state.pending.append(contentsOf: level.utf8)
                state.pending.append(contentsOf: "\",".utf8)
                body(&state.pending)
                state.pending.append(UInt8(ascii: "}"))
            }
            state.pending.append(0x0A)
            if immediately || state.pending.count >= batchLimit {
                scheduleDrain(&state)
            } else if state.timer == nil {
                state.timer = startTimer()
            }
        }
    }

    /// Writes whatever is waiting, and returns once it is written (before exit, say).
    public func flush() {
        writer.sync { drain() }
    }

    /// `--log-file`'s file, opened for appending, created 0640 if missing.
    public static func open(path: String, format: Format) -> LogOutput? {
        let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        return fd < 0 ? nil : LogOutput(fd: fd, format: format)
    }

    /// Opens `path` again and writes there from now on (logrotate renamed the old file);
    /// false with errno when it cannot be opened, and the old file is kept. Lines taken
    /// before the call go to the old file, later ones to the new.
    @discardableResult
    public func reopen(path: String) -> Bool {
        writer.sync {
            drain()
            let fresh = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
            guard fresh >= 0 else { return false }
            // The same descriptor number, now for the new file: nothing else needs telling.
            let moved = dup2(fresh, fd) >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) == 0
            let error = errno
            Glibc.close(fresh)
            errno = error
            return moved
        }
    }

    private func scheduleDrain(_ state: inout State) {
        guard !state.draining else { return }
        state.draining = true
        writer.async { [self] in drain() }
    }

    /// On `writer`: takes what waits and writes it outside the lock.
    private func drain() {
        var batch = state.withLock { state in
            state.draining = false
            return Self.take(&state.pending, keeping: batchLimit)
        }
        var sent = 0
        batch.withUnsafeBytes { bytes in
            while sent < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + sent, bytes.count - sent)
                if n < 0 && errno == EINTR { continue }
                // A log that cannot be written must not stop the server: drop the batch.
                guard n > 0 else { return }
                sent += n
            }
        }
        batch.removeAll()
    }

    private static func take(_ pending: inout [UInt8], keeping capacity: Int) -> [UInt8] {
        let batch = pending
        pending = []
        pending.reserveCapacity(min(batch.count, capacity))
        return batch
    }

    private func startTimer() -> DispatchSourceTimer {
        let timer = DispatchSource.makeTimerSource(queue: writer)
        timer.schedule(deadline: .now() + 0.1, repeating: 0.1, leeway: .milliseconds(20))
        timer.setEventHandler { [weak self] in self?.drain() }
        timer.activate()
        return timer
    }
}
