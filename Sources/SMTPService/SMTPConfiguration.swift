import Logging
import ServerCore

/// What the SMTP service needs, built by the command (or a test) and passed in.
public struct SMTPConfiguration: Sendable {
    public var policy: SMTPSession.Policy
    public var store: MaildirStore
    public var logger: Logger
    /// RFC 5321 4.5.3.2 asks for 5 minutes between commands.
    public var idleTimeout: Double = 300
    /// The registry's per-address cap for this service (nil: none).
    public var perAddress: AddressLimit?
    /// The certificates of STARTTLS and SMTPS; nil: no TLS, whatever `policy.tls` says.
    public var tls: TLSContextHolder?
    /// Counters and the duration histogram (nil: none).
    public var metrics: SMTPMetrics?

    public init(policy: SMTPSession.Policy, store: MaildirStore, logger: Logger, perAddress: AddressLimit? = nil,
                tls: TLSContextHolder? = nil) {
        self.policy = policy
        self.store = store
        self.logger = logger
        self.perAddress = perAddress
        self.tls = tls
    }

    /// Where deliveries (the copies, fsync, renames) run.
    public var pool = BlockingPool.shared

    /// SMTP on its plaintext port, with STARTTLS when there is a certificate.
    public var service: TCPService {
        let configuration = self, logger = logger
        var service = TCPService(busyReply: SMTPReply.busy.bytes, timeoutReply: SMTPReply.timedOut.bytes, perAddress: perAddress,
                                 refused: { id, why in logger.notice("smtp \(id) \(why)") }) { configuration.handler(for: $0) }
        service.observer = metrics?.connections
        return service
    }

    /// SMTPS (RFC 8314): TLS from the first byte, then the same conversation; nil without a
    /// certificate. A refused connection is closed unanswered: a TLS client cannot read a
    /// plaintext 421.
    public var implicitTLSService: TCPService? {
        guard let tls else { return nil }
        let configuration = self, logger = logger
        var service = TCPService(timeoutReply: SMTPReply.timedOut.bytes, perAddress: perAddress,
                                 refused: { id, why in logger.notice("smtps \(id) \(why)") }, tls: tls) {
            configuration.handler(for: $0, implicitTLS: true)
        }
        service.observer = metrics?.connections
        return service
    }

    /// ALPN for SMTP's TLS contexts. IANA registers no SMTP identifier; offering one of our
    /// own makes OpenSSL refuse a client that offers only others (an HTTPS client sent to a
    /// mail port, the ALPACA attack), while clients that offer none, as MTAs do, are served.
    public static let alpn = ["smtp"]

    /// One connection's handler: the driver running its session.
    func handler(for id: ConnectionID, implicitTLS: Bool = false) -> SessionDriver<SMTPConnectionSession> {
        var configuration = self
        if tls == nil { configuration.policy.tls = .off }
        return SessionDriver(SMTPConnectionSession(configuration, clientIP: id.remote.ip.description, implicitTLS: implicitTLS),
                             .init(service: implicitTLS ? "smtps" : "smtp", logger: logger, pool: pool, inputLimit: 64 * 1024,
                                   duration: metrics?.duration))
    }
}
