import Glibc
import Logging
import ServerCore

/// What the FTP service needs, built by the command (or a test) and passed in.
public struct FTPConfiguration: Sendable {
    public var fs: VirtualFS
    public var users: FTPUsers
    public var anonymous: Bool
    /// Where data listeners are opened and active connections made.
    public var registry: ListenerRegistry
    /// Ports for passive data connections; nil: any free port.
    public var passivePorts: ClosedRange<UInt16>?
    /// The IPv4 address PASV announces (vsftpd's `pasv_address`, for a server behind NAT);
    /// nil: the control connection's local address. Listeners still open on that one.
    public var passiveAddress: IPAddress?
    public var logger: Logger
    public var idleTimeout: Double = 300
    /// How long a data connection may take to arrive, or sit idle.
    public var dataTimeout: Double = 30
    /// The registry's per-address cap for this service (nil: none).
    public var perAddress: AddressLimit?
    /// The certificates for AUTH TLS, PROT P and implicit FTPS; nil: no TLS.
    public var tls: TLSContextHolder?
    /// What TLS is offered, when there are certificates (`--ftp-tls`).
    public var tlsPolicy = FTPSession.TLSPolicy.optional
    /// A protected data connection must resume the control connection's TLS session
    /// (vsftpd's `require_ssl_reuse`; `--ftp-tls-reuse`).
    public var tlsReuse = true
    /// Counters, the duration histogram and the last transfers (nil: none).
    public var metrics: FTPMetrics?
    public let throttle = LoginThrottle()
    /// Seconds since the epoch, for the dates in listings (passed in so tests can fix it).
    public var clock: @Sendable () -> Int = { Int(time(nil)) }

    public init(fs: VirtualFS, users: FTPUsers, anonymous: Bool, registry: ListenerRegistry, passivePorts: ClosedRange<UInt16>?,
                logger: Logger, perAddress: AddressLimit? = nil) {
        self.fs = fs
        self.users = users
        self.anonymous = anonymous
        self.registry = registry
        self.passivePorts = passivePorts
        self.logger = logger
        self.perAddress = perAddress
    }

    /// The control connection on the FTP port: plaintext until AUTH TLS.
    public var service: TCPService { service(implicitTLS: false) }

    /// Implicit FTPS (`--ftps-port`): the control connection is TLS from its first byte.
    public var implicitTLSService: TCPService { service(implicitTLS: true) }

    private func service(implicitTLS: Bool) -> TCPService {
        let configuration = self, logger = logger
        var service = TCPService(busyReply: FTPReply.tooManyConnections.bytes, timeoutReply: FTPReply.timedOut.bytes, perAddress: perAddress,
                          refused: { id, why in logger.notice("ftp \(id) \(why)") }) { id in
            let links = RegistryDataLinks(registry: configuration.registry, ports: configuration.passivePorts,
                                          timeout: configuration.dataTimeout, logger: logger)
            return SessionDriver(FTPControlSession(configuration, id: id, links: links, implicitTLS: implicitTLS),
                                 .init(service: "ftp", logger: logger, inputLimit: FTPControlSession.inputLimit,
                                       duration: configuration.metrics?.duration))
        }
        service.observer = metrics?.connections
        return service
    }
}
