/// What a protocol's handler may do with its connection: the seam between ServerCore and
/// every protocol. `Connection` is the socket-backed one; `TestConnection` runs a handler in
/// memory, as swift-nio's EmbeddedChannel does. Every call is made on the connection's
/// queue (from inside a handler callback, or an `async` body).
public protocol ConnectionContext: AnyObject, Sendable {
    /// The 4-tuple.
    var id: ConnectionID { get }
    var isOpen: Bool { get }
    /// Output written but not yet taken by the peer.
    var pendingOutputBytes: Int { get }
    /// True once as much output waits as the connection holds before it stops reading: a
    /// handler answering several requests from one read stops here, keeps the rest of its
    /// input and asks `notifyWhenWritable`, so the bound holds per answer, not per read.
    var outputIsFull: Bool { get }
    func write(_ bytes: [UInt8])
    /// `count` bytes of `file` from `offset` (sendfile on a socket).
    func write(file: FileDescriptor, offset: Int64, count: Int64)
    /// Asks for one `connectionWritable` once everything queued has been sent.
    func notifyWhenWritable()
    func closeAfterFlush(lingering: Bool)
    func close()
    func pauseReading()
    func resumeReading()
    func setIdleTimeout(_ seconds: Double?)
    /// Runs `body` on the connection's queue unless it has closed by then, and sends what it
    /// wrote: for answers that complete elsewhere (an upstream's, the blocking pool's).
    func async(_ body: @escaping @Sendable (any ConnectionContext) -> Void)
    /// STARTTLS / AUTH TLS: once the output queued so far has gone, the connection switches
    /// to TLS with `context`, reading nothing more in plaintext. Input the handler already
    /// holds was sent before the switch: it must drop it, never take it as commands.
    func startTLS(_ context: TLSServerContext)
    /// The TLS session once its handshake is done; nil in plaintext.
    var tls: TLSInfo? { get }
    /// In debug builds, traps unless called on the connection's queue: the check behind a
    /// handler's own confinement (`SessionDriver`'s `@unchecked Sendable`).
    func assertConfined()
}

extension ConnectionContext {
    public var logName: String { id.description }

    public func closeAfterFlush() { closeAfterFlush(lingering: true) }

    /// Runs `work` on the blocking pool, then `then` with its result on the connection's
    /// queue. False, with nothing run, when the pool is full: answer busy, never spawn.
    public func offload<T: Sendable>(to pool: BlockingPool = .shared, _ work: @escaping @Sendable () -> T,
                                     then: @escaping @Sendable (any ConnectionContext, T) -> Void) -> Bool {
        pool.submit { [self] in
            let result = work()
            async { then($0, result) }
        }
    }
}
