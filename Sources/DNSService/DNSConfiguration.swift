import Logging
import ServerCore

/// What the DNS service needs, built by the command (or a test) and passed in.
public struct DNSConfiguration: Sendable {
    public var responder: DNSResponder
    /// Idle time allowed on a TCP connection between queries (RFC 7766 6.2.3).
    public var tcpIdleTimeout: Double = 10
    /// The registry's per-address cap for TCP (nil: none).
    public var perAddress: AddressLimit?

    public init(responder: DNSResponder) {
        self.responder = responder
    }

    public var datagramHandler: any DatagramHandler { DNSDatagramHandler(responder: responder) }

    public var service: TCPService {
        let responder = responder, idle = tcpIdleTimeout
        let driving = SessionDriver<DNSTCPSession>.Configuration(service: "dns", logger: responder.logger,
                                                                 inputLimit: DNSTCPSession.inputLimit)
        var service = TCPService(perAddress: perAddress) { client in
            SessionDriver(DNSTCPSession(responder: responder, client: client, idleTimeout: idle), driving)
        }
        service.observer = responder.metrics?.connections
        return service
    }
}
