import CSystem
import Glibc

/// One accepted TCP connection.
///
/// Confined to its worker's serial queue: the worker and the handler call it only from
/// there, which is why `@unchecked Sendable` is sound. Output is queued and sent when the
/// handler's call returns (so a head and a body leave together); what the socket will not
/// take yet waits for EPOLLOUT, and `pendingOutputBytes` lets the handler apply backpressure.
public final class Connection: ConnectionContext, @unchecked Sendable {
    public let id: ConnectionID
    /// `remote -> local`, for log lines (formatted when asked: an idle connection keeps no copy).
    let fd: Int32
    let key: UInt64
    unowned let worker: Worker
    var handler: (any ConnectionHandler)?
    /// The service's word before an idle timeout closes the connection.
    var timeoutReply: [UInt8] = []
    /// The per-address count this connection holds a place in, given back when it closes.
    var admission: AddressLimit?
    /// For metrics and `ConnectionSnapshot`.
    var observer: ConnectionObserver?
    var openedAt: UInt64 = 0
    var bytesIn = 0, bytesOut = 0

    enum OutputItem {
        case bytes([UInt8], sent: Int)
        case file(FileDescriptor, offset: Int64, remaining: Int64)
    }

    enum Phase { case connecting, open, closingAfterFlush, lingering, closed }

    var output: [OutputItem] = []
    public internal(set) var pendingOutputBytes = 0
    /// True once as much output waits as the connection holds before it stops reading: a
    /// handler that answers several requests from one read stops here, keeps the rest of its
    /// input and asks `notifyWhenWritable`, so the bound holds per answer, not per read.
    public var outputIsFull: Bool { pendingOutputBytes >= Connection.readingOutputLimit }

    public func closeAfterFlush() { closeAfterFlush(lingering: true) }
    var phase = Phase.open
    var readPaused = false
    private var lingers = true
    var peerClosed = false
    private var wantsWritable = false
    /// The socket refused output (EAGAIN): wait for EPOLLOUT. Output merely queued during a
    /// handler call is sent right after it, without asking epoll.
    var blockedOnSend = false
    private var interest: UInt32
    /// TLS, implicit from accept or started by `startTLS`; nil: plaintext.
    var tlsLayer: TLSLayer?
    /// Past this much unsent output the connection stops reading, whatever the handler
    /// asked: a peer that sends requests but does not read the replies cannot make the
    /// server hold an ever longer queue of them.
    static let readingOutputLimit = 1024 * 1024
    /// Bytes sent in one turn at most (nginx's sendfile_max_chunk is 2 MiB): on loopback a
    /// single sendfile would otherwise move a whole large file while every other
    /// connection of the worker waits.
    static let sendBudget = 4 * 1024 * 1024
    /// What one sendfile call may move, so that a turn ends close to its budget.
    static let sendfileChunk: Int64 = 256 * 1024
    var idleDeadline: UInt64 = 0
    var idleDuration: UInt64 = 0
    var writeDeadline: UInt64 = 0

    init(id: ConnectionID, fd: Int32, key: UInt64, worker: Worker, interest: UInt32, connecting: Bool = false) {
        self.id = id
        self.fd = fd
        self.key = key
        self.worker = worker
        self.interest = interest
        if connecting { phase = .connecting }
    }

    var isConnecting: Bool { phase == .connecting }

    /// An outbound connect has completed (EPOLLOUT): open, or report the failure.
    func finishConnecting() {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0, error == 0 else {
            return worker.close(self, reason: .connectFailed)
        }
        phase = .open
        idleDeadline = 0
        updateInterest()
        if let tlsLayer, let target = tlsLayer.client { return startClientTLS(tlsLayer, target) }
        opened()
    }

    public var isOpen: Bool { phase == .open }

    public func assertConfined() { assertOnQueue(worker.queue) }

    /// Queues bytes; small writes in a row are joined into one send.
    public func write(_ bytes: [UInt8]) {
        assertOnQueue(worker.queue)
        guard phase == .open, !bytes.isEmpty else { return }
        pendingOutputBytes += bytes.count
        if case .bytes(var last, let sent)? = output.last, sent == 0, last.count + bytes.count <= 64 * 1024 {
            output[output.count - 1] = .bytes([], sent: 0)
            last.append(contentsOf: bytes)
            output[output.count - 1] = .bytes(last, sent: 0)
        } else {
            output.append(.bytes(bytes, sent: 0))
        }
    }

    /// Queues `count` bytes of `file` from `offset`, sent with sendfile(2).
    public func write(file: FileDescriptor, offset: Int64, count: Int64) {
        assertOnQueue(worker.queue)
        guard phase == .open, count > 0 else { return }
        pendingOutputBytes += Int(count)
        output.append(.file(file, offset: offset, remaining: count))
    }

    /// Runs `body` on the connection's queue, unless the connection has closed by then, and
    /// sends what it wrote: for replies that complete elsewhere (an upstream's answer).
    public func async(_ body: @escaping @Sendable (any ConnectionContext) -> Void) {
        worker.queue.async { [self] in
            guard phase != .closed else { return }
            body(self)
            flush()
        }
    }

    /// Asks for one `connectionWritable` call once everything queued has been sent.
    public func notifyWhenWritable() {
        assertOnQueue(worker.queue)
        wantsWritable = true
    }

    /// Sends what is queued, then closes. With `lingering`, input still arriving is read and
    /// dropped for a moment so that the peer sees the reply rather than a reset; without it
    /// (the peer said it will send nothing more, and nothing is pending) the socket is
    /// closed at once, as nginx does, saving a shutdown and a round trip per connection.
    public func closeAfterFlush(lingering: Bool) {
        assertOnQueue(worker.queue)
        guard phase == .open else { return }
        phase = .closingAfterFlush
        lingers = lingering
    }

    public func close() {
        tlsLayer?.stream?.shutdown()
        worker.close(self, reason: .closedByServer)
    }

    /// The idle timeout is closing an open, idle connection: the service's reply, if it has
    /// one, is sent without waiting (a connection stalled on output gets nothing more).
    func sayTimedOut() {
        guard phase == .open, output.isEmpty, !timeoutReply.isEmpty else { return }
        if let tlsLayer {
            guard let stream = tlsLayer.stream, stream.established else { return }
            _ = timeoutReply.withUnsafeBytes { stream.write($0.baseAddress!, count: $0.count) }
            return
        }
        _ = timeoutReply.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
    }

    public func pauseReading() {
        assertOnQueue(worker.queue)
        readPaused = true
        updateInterest()
    }

    public func resumeReading() {
        assertOnQueue(worker.queue)
        readPaused = false
        updateInterest()
    }

    /// Closes the connection if it stays idle for `seconds` (nil: no limit). The clock starts
    /// now, and again when output that had to wait for the peer has all been sent.
    public func setIdleTimeout(_ seconds: Double?) {
        assertOnQueue(worker.queue)
        idleDuration = seconds.map { UInt64($0 * 1e9) } ?? 0
        idleDeadline = idleDuration == 0 ? 0 : worker.now() + idleDuration
    }

    /// The deadline the sweep enforces: sending while output waits, else the idle one (which
    /// is the handshake's while one runs, output queued behind it or not).
    var deadline: UInt64 { output.isEmpty || tlsLayer?.stream?.established == false ? idleDeadline : writeDeadline }

    func markClosed() {
        phase = .closed
        output.removeAll()
        pendingOutputBytes = 0
        // A session begun and closed before its handshake ended (refused, garbage, timed out).
        if let tlsLayer, tlsLayer.stream != nil, !tlsLayer.established { observer?.handshake(succeeded: false) }
        tlsLayer = nil
    }

    // MARK: events from the worker

    func readable(into buffer: UnsafeMutableRawBufferPointer) {
        assertOnQueue(worker.queue)
        guard phase != .connecting else { return }
        if let tlsLayer, phase != .lingering { return readableTLS(tlsLayer, into: buffer) }
        let n = read(fd, buffer.baseAddress, buffer.count)
        if n > 0 {
            bytesIn += n
            guard phase == .open, let handler else { return }
            handler.connection(self, received: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            flush()
        } else if n == 0 {
            peerClosed = true
            if phase == .lingering { return worker.close(self, reason: .closedByServer) }
            updateInterest()
            if phase == .open, let handler { handler.connectionReceivedEOF(self) }
            flush()
        } else if errno != EAGAIN && errno != EINTR {
            worker.close(self, reason: .peerReset)
        }
    }

    func drain() {
        guard phase == .open, let handler else { return }
        handler.connectionShouldDrain(self)
        flush()
    }

    func opened() {
        handler?.connectionOpened(self)
        flush()
    }

    /// Sends what the socket takes; hands the handler `connectionWritable` when it asked
    /// and the queue is empty; starts the lingering close once a closing flush is done.
    func flush() {
        assertOnQueue(worker.queue)
        while true {
            guard phase == .open || phase == .closingAfterFlush else { return }
            guard sendQueued() else { return }
            if phase == .closingAfterFlush { return startLingering() }
            guard wantsWritable, let handler else { break }
            wantsWritable = false
            handler.connectionWritable(self)
            if output.isEmpty && !wantsWritable { break }
        }
        updateInterest()
    }

    /// Returns true when the queue is empty; false when it waits for the socket or failed.
    private func sendQueued() -> Bool {
        if let tlsLayer { return sendQueuedTLS(tlsLayer) }
        return sendQueuedPlain()
    }

    func sendQueuedPlain() -> Bool {
        // An idle connection keeps no output buffer (a few hundred bytes each, across thousands).
        defer { if output.isEmpty { output = [] } }
        var budget = Connection.sendBudget
        while let first = output.first {
            // This connection has had its turn: the others on the worker go first, and
            // EPOLLOUT (level-triggered) brings it back at once if the socket still has room.
            if budget <= 0 { return waitForSocket() }
            let n: Int
            switch first {
            case .bytes(let bytes, let sent):
                let flags = Int32(MSG_NOSIGNAL) | (output.count > 1 ? Int32(MSG_MORE) : 0)
                n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, flags) }
                if n > 0 {
                    if sent + n == bytes.count { output.removeFirst() } else { output[0] = .bytes(bytes, sent: sent + n) }
                }
            case .file(let file, let offset, let remaining):
                var position = offset
                n = csystem_sendfile(fd, file.fd, &position, Int(min(remaining, Int64(Connection.sendfileChunk))))
                if n == 0 {
                    // The file shrank under us: the promised length can no longer be met.
                    worker.close(self, reason: .closedByServer)
                    return false
                }
                if n > 0 {
                    if Int64(n) == remaining { output.removeFirst() } else {
                        output[0] = .file(file, offset: position, remaining: remaining - Int64(n))
                    }
                }
            }
            if n > 0 {
                pendingOutputBytes -= n
                bytesOut += n
                budget -= n
                // A peer that is reading gets a fresh send deadline.
                if blockedOnSend { writeDeadline = worker.now() + worker.writeTimeout }
                continue
            }
            let error = csystem_errno()
            if error == EINTR { continue }
            if error == EAGAIN { return waitForSocket() }
            worker.close(self, reason: .peerReset)
            return false
        }
        sentAll()
        return true
    }

    /// The socket takes no more for now: EPOLLOUT, within the send deadline.
    func waitForSocket() -> Bool {
        if !blockedOnSend { writeDeadline = worker.now() + worker.writeTimeout }
        blockedOnSend = true
        updateInterest()
        return false
    }

    /// The queue is empty: a connection that had waited for its peer is idle from now.
    func sentAll() {
        if blockedOnSend {
            blockedOnSend = false
            writeDeadline = 0
            if idleDuration != 0 { idleDeadline = max(idleDeadline, worker.now() + idleDuration) }
        }
    }

    private func startLingering() {
        phase = .lingering
        tlsLayer?.stream?.shutdown()
        if peerClosed || !lingers { return worker.close(self, reason: .closedByServer) }
        shutdown(fd, Int32(SHUT_WR))
        readPaused = false
        idleDeadline = worker.now() + worker.lingerTime
        updateInterest()
    }

    func updateInterest() {
        guard phase != .closed, phase != .connecting else { return }
        var want: UInt32 = 0
        if !readPaused && !peerClosed && pendingOutputBytes < Connection.readingOutputLimit {
            want |= UInt32(CSYSTEM_EPOLLIN | CSYSTEM_EPOLLRDHUP)
        }
        if blockedOnSend { want |= UInt32(CSYSTEM_EPOLLOUT) }
        if let tlsLayer { want = tlsInterest(want, tlsLayer) }
        guard want != interest else { return }
        interest = want
        _ = csystem_epoll_modify(worker.epollFD, fd, want, key)
    }
}
