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

    public var service: TCPService { stream(tls: nil) }

    /// DNS over TLS (RFC 7858) with `tls` (its ALPN `dot`): TCP's sessions, pipelining and
    /// idle timeout, inside implicit TLS; the handshake has the registry's deadline.
    public func dotService(tls: TLSContextHolder) -> TCPService { stream(tls: tls) }

    private func stream(tls: TLSContextHolder?) -> TCPService {
        let responder = responder, idle = tcpIdleTimeout, transport: DNSResponder.Transport = tls == nil ? .tcp : .tls
        let driving = SessionDriver<DNSTCPSession>.Configuration(service: "dns", logger: responder.logger,
                                                                 inputLimit: DNSTCPSession.inputLimit, duration: responder.metrics?.duration)
        var service = TCPService(perAddress: perAddress, tls: tls) { client in
            SessionDriver(DNSTCPSession(responder: responder, client: client, idleTimeout: idle, over: transport), driving)
        }
        service.observer = responder.metrics?.connections
        return service
    }
}
