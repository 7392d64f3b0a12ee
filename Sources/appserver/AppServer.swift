import ArgumentParser
import DNSService
import Dispatch
import FTPService
import Glibc
import HTTPService
import Logging
import ServerCore
import SMTPService

@main
struct AppServer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "appserver",
        abstract: "A small multi-protocol application server: HTTP static files, DNS, SMTP and FTP.",
        subcommands: [Serve.self, Passwd.self],
        defaultSubcommand: Serve.self
    )
}

/// Runs the services (what `appserver` does with no subcommand).
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the services (the default).")

    @OptionGroup var options: Options

    func run() throws {
        let settings = orFail { try Settings(flags: options, file: try loadConfig()) }
        LoggingSystem.bootstrap { _ in LineLogHandler(level: settings.logLevel) }
        let logger = Logger(label: "appserver")
        signal(SIGPIPE, SIG_IGN)
        Startup.raiseDescriptorLimit()

        let registry = orFail {
            try ListenerRegistry(workers: settings.workers, limits: ConnectionLimits(maxConnections: settings.maxConnections))
        }
        var reloads: [(name: String, reload: @Sendable () -> [String])] = []
        if settings.services.contains("http") {
            let files = orFail { try StaticFiles(root: settings.www) }
            let service = HTTPConfiguration(files: files, logger: logger).service
            bind(settings, port: settings.httpPort, flag: "--http-port", name: "http", logger: logger) { (address) throws(SocketError) in
                try registry.addTCP(address, service: service)
            }
        }
        if settings.services.contains("dns") {
            let zones = orFail { try ZoneStore(folder: settings.zones) }
            reloads.append(("dns zones", { zones.reload() }))
            logger.notice("dns: \(zones.authority.zones.count) zone(s) from \(settings.zones)")
            let forwarder = settings.upstreams.isEmpty ? nil
                : Forwarder(upstreams: settings.upstreams, cache: DNSCache { DispatchTime.now().uptimeNanoseconds / 1_000_000_000 })
            let dns = DNSConfiguration(responder: DNSResponder(zones: zones, forwarder: forwarder,
                                                               allowRecursion: settings.allowRecursion, logger: logger))
            let stream = dns.service, datagrams = dns.datagramHandler
            bind(settings, port: settings.dnsPort, flag: "--dns-port", name: "dns, tcp and udp", logger: logger) { (address) throws(SocketError) in
                // TCP first, so a port chosen by the system (0) is then taken for UDP too.
                let bound = try registry.addTCP(address, service: stream)
                return try registry.addUDP(bound, handler: datagrams)
            }
        }
        var ownedFolders: [String] = []
        if settings.services.contains("smtp") {
            let store = orFail { try MaildirStore(data: settings.data, hostname: Startup.hostname) }
            store.removeCrashLeftovers(logger: logger)
            ownedFolders += [settings.data, store.root, settings.data + "/spool"]
            let policy = SMTPSession.Policy(hostname: Startup.hostname, domains: settings.mailDomains)
            let service = SMTPConfiguration(policy: policy, store: store, logger: logger,
                                            maxConnectionsPerAddress: settings.maxPerAddress).service
            logger.notice("smtp: mail for \(settings.mailDomains.joined(separator: ", ")) into \(store.root)")
            bind(settings, port: settings.smtpPort, flag: "--smtp-port", name: "smtp", logger: logger) { (address) throws(SocketError) in
                try registry.addTCP(address, service: service)
            }
        }
        if settings.services.contains("ftp") {
            let users = orFail { try FTPUsers(path: settings.ftpUsers) }
            reloads.append(("ftp users", { users.reload().map { [$0] } ?? [] }))
            let root = orFail { () throws -> VirtualFS in
                if let error = LocalFiles.createDirectories(settings.ftpRoot) {
                    throw Settings.Invalid(description: "cannot create \(settings.ftpRoot): \(errorText(error))")
                }
                return try VirtualFS(root: settings.ftpRoot)
            }
            root.removeAbandonedUploads(logger: logger)
            ownedFolders.append(settings.ftpRoot)
            let ftp = FTPConfiguration(fs: root, users: users, anonymous: settings.ftpAnonymous, registry: registry,
                                       passivePorts: settings.ftpPassivePorts, logger: logger,
                                       maxConnectionsPerAddress: settings.maxPerAddress)
            logger.notice("ftp: \(users.count) user(s)\(settings.ftpAnonymous ? " and anonymous (read-only)" : ""), root \(settings.ftpRoot)")
            let service = ftp.service
            bind(settings, port: settings.ftpPort, flag: "--ftp-port", name: "ftp", logger: logger) { (address) throws(SocketError) in
                try registry.addTCP(address, service: service)
            }
        }
        orFail { try Startup.dropPrivileges(to: settings.user, handing: ownedFolders, logger: logger) }
        registry.start()
        Startup.handleSignals(registry: registry, logger: logger)
        if !reloads.isEmpty { Startup.reloadOnHangup(reloads, logger: logger) }
        dispatchMain()
    }

    private func loadConfig() throws -> ConfigFile? {
        let path = options.config ?? "conf/appserver.conf"
        guard let data = LocalFiles.read(path) else {
            if options.config == nil { return nil }
            throw Settings.Invalid(description: "cannot read config file \(path)")
        }
        return try ConfigFile(path: path, text: String(decoding: data, as: UTF8.self), knownKeys: Settings.configKeys)
    }

    /// Binds the service's port on every listen address, or exits with a line saying why.
    private func bind(_ settings: Settings, port: UInt16, flag: String, name: String, logger: Logger,
                      _ add: (SocketAddress) throws(SocketError) -> SocketAddress) {
        for ip in settings.listen {
            do {
                let bound = try add(SocketAddress(ip: ip, port: port))
                logger.notice("listening on \(bound) (\(name))")
            } catch {
                if settings.listenIsDefault && ip.isIPv6 && (error.errno == EAFNOSUPPORT || error.errno == EADDRNOTAVAIL) {
                    logger.notice("IPv6 is not available here; listening on IPv4 only")
                    continue
                }
                fail(Startup.explain(error, flag: flag))
            }
        }
    }
}

/// Prints one line to standard error and exits non-zero: how every startup error ends.
func fail(_ message: String) -> Never {
    printError("appserver: \(message)")
    exit(1)
}

/// The value, or the error as that one line.
func orFail<T>(_ body: () throws -> T) -> T {
    do {
        return try body()
    } catch {
        fail("\(error)")
    }
}
