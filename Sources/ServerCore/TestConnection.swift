import Dispatch
import Glibc
import Synchronization

/// A connection without a socket, for handler tests: bytes go in with `receive`, what the
/// handler wrote comes out of `output`, and a peer that stops reading is `peerReading = false`
/// (written bytes then stay pending, as on a socket whose send buffer is full). `async`
/// bodies wait in a queue until `runPending` (they may be queued from any thread).
public final class TestConnection: ConnectionContext, @unchecked Sendable {
    // Confined to the test's thread, like a Connection to its worker queue; only `pending`
    // is shared, under its lock.
    public let id: ConnectionID
    public let handler: any ConnectionHandler
    /// What the peer has read so far.
    public private(set) var output: [UInt8] = []
    private var unsent: [UInt8] = []
    public var peerReading = true {
        didSet { if peerReading { deliver() } }
    }
    public private(set) var isOpen = true
    public private(set) var closedAfterFlush = false
    public private(set) var readingPaused = false
    public private(set) var idleTimeout: Double?
    /// The contexts `startTLS` was asked for, in order.
    public private(set) var startedTLS: [TLSServerContext] = []
    /// What `tls` reports: set it to play a TLS connection.
    public var tls: TLSInfo?
    private var wantsWritable = false
    private let pending = Mutex<[@Sendable (any ConnectionContext) -> Void]>([])
    /// As `Connection.readingOutputLimit`.
    public var outputLimit = 1024 * 1024

    public init(handler: any ConnectionHandler,
                local: SocketAddress = SocketAddress(ip: .v4(UInt32(0x7F00_0001).bigEndian), port: 1000),
                remote: SocketAddress = SocketAddress(ip: .v4(UInt32(0x7F00_0001).bigEndian), port: 40000)) {
        self.handler = handler
        id = ConnectionID(local: local, remote: remote)
    }

    public func open() {
        handler.connectionOpened(self)
        deliver()
    }

    /// The peer sends `bytes`; held back (returns false) while the handler paused reading
    /// or output is full, as the socket would not be read.
    @discardableResult
    public func receive(_ bytes: [UInt8]) -> Bool {
        guard isOpen, !closedAfterFlush, !readingPaused, !outputIsFull else { return false }
        bytes.withUnsafeBytes { handler.connection(self, received: $0) }
        deliver()
        return true
    }

    public func receiveEOF() {
        guard isOpen else { return }
        handler.connectionReceivedEOF(self)
        deliver()
    }

    /// The server is shutting down.
    public func drain() {
        guard isOpen else { return }
        handler.connectionShouldDrain(self)
        deliver()
    }

    /// Runs the `async` bodies queued so far; returns how many ran.
    @discardableResult
    public func runPending() -> Int {
        let bodies = pending.withLock { queued in
            defer { queued.removeAll() }
            return queued
        }
        for body in bodies where isOpen { body(self) }
        deliver()
        return bodies.count
    }

    /// Waits (polling, up to `seconds`) for an `async` body from another thread, and runs it.
    @discardableResult
    public func runPending(waitingUpTo seconds: Double) -> Bool {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
        while pending.withLock({ $0.isEmpty }) {
            guard DispatchTime.now().uptimeNanoseconds < deadline else { return false }
            usleep(1000)
        }
        return runPending() > 0
    }

    /// Everything the peer has read, and forgets it.
    public func takeOutput() -> [UInt8] {
        defer { output.removeAll() }
        return output
    }

    public func takeText() -> String { String(decoding: takeOutput(), as: UTF8.self) }

    // MARK: ConnectionContext

    public var pendingOutputBytes: Int { unsent.count }
    public var outputIsFull: Bool { unsent.count >= outputLimit }

    public func write(_ bytes: [UInt8]) {
        guard isOpen, !closedAfterFlush else { return }
        unsent += bytes
    }

    public func write(file: FileDescriptor, offset: Int64, count: Int64) {
        guard isOpen, !closedAfterFlush, count > 0 else { return }
        var bytes = [UInt8](repeating: 0, count: Int(count))
        let n = bytes.withUnsafeMutableBytes { pread(file.fd, $0.baseAddress, $0.count, off_t(offset)) }
        unsent += bytes.prefix(max(0, n))
    }

    public func notifyWhenWritable() { wantsWritable = true }

    public func closeAfterFlush(lingering: Bool) {
        guard isOpen else { return }
        closedAfterFlush = true
        deliver()
    }

    public func close() {
        guard isOpen else { return }
        isOpen = false
        unsent.removeAll()
        handler.connectionClosed(self, reason: .closedByServer)
    }

    public func pauseReading() { readingPaused = true }
    public func resumeReading() { readingPaused = false }
    public func setIdleTimeout(_ seconds: Double?) { idleTimeout = seconds }
    public func startTLS(_ context: TLSServerContext) { startedTLS.append(context) }

    /// Nothing to check: a test drives its connection from one thread, and has no queue.
    public func assertConfined() {}

    public func async(_ body: @escaping @Sendable (any ConnectionContext) -> Void) {
        pending.withLock { $0.append(body) }
    }

    /// What a socket does after each handler call: hands the peer what it takes, then
    /// `connectionWritable` once the queue is empty, then the close a flush was waiting for.
    private func deliver() {
        while isOpen && peerReading {
            output += unsent
            unsent.removeAll()
            guard wantsWritable else { break }
            wantsWritable = false
            handler.connectionWritable(self)
            if unsent.isEmpty && !wantsWritable { break }
        }
        if isOpen && closedAfterFlush && unsent.isEmpty {
            isOpen = false
            handler.connectionClosed(self, reason: .closedByServer)
        }
    }
}
