/// A protocol's conversation on one TCP connection, as `SessionDriver` runs it: bytes in,
/// one step at a time, actions out. Sans-I/O: a session sees no socket, queue or clock, so
/// it is tested with bytes alone, and the driver does the rest the same way for every protocol.
public protocol ConnectionSession: SendableMetatype {
    /// What work done elsewhere (the blocking pool, an upstream) hands back.
    associatedtype Completion: Sendable
    typealias Actions = [SessionAction<Completion>]

    /// The connection opened: a greeting, an idle timeout.
    mutating func start() -> Actions
    /// Bytes from the peer, kept until steps take them (framing is the session's own).
    mutating func receive(_ bytes: UnsafeRawBufferPointer)
    /// The actions for the next complete request, command or message (or the next piece
    /// of a response being streamed); nil when more bytes are needed first. The driver asks
    /// only while the output has room and no held work is outstanding, so what one peer
    /// can make the server hold is bounded per answer, not per read.
    mutating func step() -> Actions?
    /// Held work (an offload, or a wait that holds input) has finished.
    mutating func complete(_ completion: Completion) -> Actions
    /// The peer will send nothing more.
    mutating func peerClosed() -> Actions
    /// The server is shutting down: finish what is in flight, then close.
    mutating func drain() -> Actions
    /// The connection is gone; only log actions are performed.
    mutating func closed(_ reason: CloseReason) -> Actions
    /// Input received and not yet taken, for the input bound.
    var bufferedBytes: Int { get }
}

extension ConnectionSession {
    public mutating func peerClosed() -> Actions { [.closeAfterFlush(lingering: true)] }
    public mutating func drain() -> Actions { [.closeAfterFlush(lingering: true)] }
    public mutating func closed(_ reason: CloseReason) -> Actions { [] }
}

/// What a session asks the driver to do.
public enum SessionAction<Completion: Sendable> {
    case write([UInt8])
    /// `count` bytes of a file from `offset` (sendfile on a socket).
    case writeFile(FileDescriptor, offset: Int64, count: Int64)
    case closeAfterFlush(lingering: Bool)
    case close
    case idleTimeout(Double?)
    /// Switch to TLS once what is queued has gone (`ConnectionContext.startTLS`). The
    /// session returning it drops the input it holds at the same time: it was sent in
    /// plaintext after the command.
    case startTLS(TLSServerContext)
    /// The exchange the next access line reports starts with this step's input, not at the
    /// first step since the last access line (SMTP's MAIL after EHLO; an FTP transfer).
    case beginExchange
    /// Work that blocks (crypt, fsync, a large copy), run on the bounded pool; no step is
    /// taken until its completion has been handed back. When the pool is full, `busy` is
    /// written and the connection closed, never a thread added.
    case offload(@Sendable () -> Completion, busy: [UInt8])
    /// Work that completes elsewhere (an upstream's answer): `begin` gets the callback to
    /// call once, from any queue. With `holdsInput`, no step is taken until then.
    case wait(holdsInput: Bool, begin: @Sendable (@escaping @Sendable (Completion) -> Void) -> Void)
    /// A log line: `service 4-tuple text`, then, for an access line, its exchange's
    /// duration (see `SessionDriver`).
    case log(LogKind, String)
}

public enum LogKind: Sendable {
    /// One line per request or transaction, at info, ending in its duration.
    case access
    /// At info, untimed: a refusal, a login.
    case info
    case notice
    case error
}
