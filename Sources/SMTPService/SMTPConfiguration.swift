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
    /// Counters and the duration histogram (nil: none).
    public var metrics: SMTPMetrics?

    public init(policy: SMTPSession.Policy, store: MaildirStore, logger: Logger, perAddress: AddressLimit? = nil) {
        self.policy = policy
        self.store = store
        self.logger = logger
        self.perAddress = perAddress
    }

    /// Where deliveries (the copies, fsync, renames) run.
    public var pool = BlockingPool.shared

    public var service: TCPService {
        let configuration = self, logger = logger
        var service = TCPService(busyReply: SMTPReply.busy.bytes, timeoutReply: SMTPReply.timedOut.bytes, perAddress: perAddress,
                                 refused: { id, why in logger.notice("smtp \(id) \(why)") }) { configuration.handler(for: $0) }
        service.observer = metrics?.connections
        return service
    }

    /// One connection's handler: the driver running its session.
    func handler(for id: ConnectionID) -> SessionDriver<SMTPConnectionSession> {
        SessionDriver(SMTPConnectionSession(self, clientIP: id.remote.ip.description),
                      .init(service: "smtp", logger: logger, pool: pool, inputLimit: 64 * 1024, duration: metrics?.duration))
    }
}
