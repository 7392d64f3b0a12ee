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

    public var service: TCPService {
        let configuration = self, logger = logger
        var service = TCPService(busyReply: FTPReply.tooManyConnections.bytes, timeoutReply: FTPReply.timedOut.bytes, perAddress: perAddress,
                          refused: { id, why in logger.notice("ftp \(id) \(why)") }) { id in
            let links = RegistryDataLinks(registry: configuration.registry, ports: configuration.passivePorts,
                                          timeout: configuration.dataTimeout, logger: logger)
            return SessionDriver(FTPControlSession(configuration, id: id, links: links),
                                 .init(service: "ftp", logger: logger, inputLimit: FTPControlSession.inputLimit,
                                       duration: configuration.metrics?.duration))
        }
        service.observer = metrics?.connections
        return service
    }
}
