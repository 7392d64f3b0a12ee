import Logging
import ServerCore

/// What the SMTP service needs, built by the command (or a test) and passed in.
public struct SMTPConfiguration: Sendable {
    public var policy: SMTPSession.Policy
    public var store: MaildirStore
    public var logger: Logger
    /// RFC 5321 4.5.3.2 asks for 5 minutes between commands.
    public var idleTimeout: Double = 300
    public let perAddress: AddressLimit

    public init(policy: SMTPSession.Policy, store: MaildirStore, logger: Logger, maxConnectionsPerAddress: Int = 20) {
        self.policy = policy
        self.store = store
        self.logger = logger
        perAddress = AddressLimit(maxPerAddress: maxConnectionsPerAddress)
    }

    public var service: TCPService {
        let configuration = self
        return TCPService(busyReply: SMTPReply.busy.bytes, timeoutReply: SMTPReply.timedOut.bytes) { _ in SMTPHandler(configuration) }
    }
}
