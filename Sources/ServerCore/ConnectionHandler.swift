/// What a protocol plugs into the registry for each accepted TCP connection.
/// Every call arrives on the connection's worker queue; the handler may call the
/// connection's methods only from inside these calls.
public protocol ConnectionHandler: AnyObject {
    func connectionOpened(_ connection: any ConnectionContext)
    func connection(_ connection: any ConnectionContext, received bytes: UnsafeRawBufferPointer)
    /// The peer closed its sending side; replies can still be written.
    func connectionReceivedEOF(_ connection: any ConnectionContext)
    /// Queued output that had to wait for the peer has all been sent.
    func connectionWritable(_ connection: any ConnectionContext)
    /// The server is shutting down: finish what is in flight, then close.
    func connectionShouldDrain(_ connection: any ConnectionContext)
    func connectionClosed(_ connection: any ConnectionContext, reason: CloseReason)
}

extension ConnectionHandler {
    public func connectionOpened(_ connection: any ConnectionContext) {}
    public func connectionReceivedEOF(_ connection: any ConnectionContext) { connection.closeAfterFlush() }
    public func connectionWritable(_ connection: any ConnectionContext) {}
    public func connectionShouldDrain(_ connection: any ConnectionContext) { connection.closeAfterFlush() }
    public func connectionClosed(_ connection: any ConnectionContext, reason: CloseReason) {}
}

public enum CloseReason: String, Sendable {
    case closedByServer = "closed"
    case peerReset = "reset by peer"
    case timeout = "timed out"
    /// An outbound connection that never opened.
    case connectFailed = "connect failed"
    /// A TLS handshake that failed, timed out before it began, or met plaintext.
    case tlsFailed = "TLS handshake failed"
}

/// A service's TCP side: how to make a handler, and how to turn away a connection over the cap.
public struct TCPService: Sendable {
    /// Sent (best effort) to a connection refused because the server is full, then it is closed.
    public let busyReply: [UInt8]
    /// Sent (best effort) to an idle connection closed by its idle timeout, as Postfix and
    /// vsftpd say 421 before they hang up; empty for none.
    public let timeoutReply: [UInt8]
    /// The cap on connections from one client address (nil: none), and what a connection
    /// over it is told before it is closed; `refused` hears of each one, for the log.
    public let perAddress: AddressLimit?
    public let perAddressReply: [UInt8]
    public let refused: (@Sendable (ConnectionID, String) -> Void)?
    public let makeHandler: @Sendable (ConnectionID) -> ConnectionHandler
    /// Its connections' name and counters (nil: uncounted, as FTP data connections are).
    public var observer: ConnectionObserver?
    /// TLS from the first byte (implicit TLS, as HTTPS); nil: plaintext.
    public let tls: TLSContextHolder?
    /// Sent in plaintext to a TLS connection whose first byte is an ASCII capital, as a
    /// plaintext request sent to a TLS port begins (nginx's 400 for HTTP), before the close.
    public let plaintextReply: [UInt8]
    /// For `ListenerRegistry.connect`: TLS as a client once connected, the handler opened
    /// after a handshake that verified the peer; nil: plaintext.
    public let clientTLS: TLSClientTarget?

    public init(busyReply: [UInt8] = [], timeoutReply: [UInt8] = [], perAddress: AddressLimit? = nil,
                perAddressReply: [UInt8]? = nil, refused: (@Sendable (ConnectionID, String) -> Void)? = nil,
                tls: TLSContextHolder? = nil, plaintextReply: [UInt8] = [], clientTLS: TLSClientTarget? = nil,
                makeHandler: @escaping @Sendable (ConnectionID) -> ConnectionHandler) {
        self.tls = tls
        self.clientTLS = clientTLS
        self.plaintextReply = plaintextReply
        self.busyReply = busyReply
        self.timeoutReply = timeoutReply
        self.perAddress = perAddress
        self.perAddressReply = perAddressReply ?? busyReply
        self.refused = refused
        self.makeHandler = makeHandler
    }
}
