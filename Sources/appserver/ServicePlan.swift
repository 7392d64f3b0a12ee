import Dispatch
import DNSService
import FTPService
import Glibc
import HTTPService
import Logging
import ServerCore
import SMTPService

/// What the settings ask for, built and checked before anything is bound: every service's
/// files, zones, users and folders loaded, and the ports each needs. `serve` binds and runs
/// it; `check` only prints it. Nothing here binds a socket or writes a log line.
struct ServicePlan {
    /// One service's port: bound on every listen address.
    struct Port {
        let name: String
        let port: UInt16
        let flag: String
        let datagrams: Bool
        let bind: (SocketAddress) throws(SocketError) -> SocketAddress
    }

    var ports: [Port] = []
    var reloads: [(name: String, reload: @Sendable () -> [String])] = []
    /// Folders the services write, handed to the run user when started as root.
    var ownedFolders: [String] = []
    /// What each service will do, said once serving starts.
    var summary: [String] = []
    /// Removing what a crash left (spool files, upload temporaries): `serve` runs these, `check` does not.
    var cleanups: [@Sendable () -> Void] = []

    /// `checking`: for `appserver check`, which writes nothing (no certificate is made).
    init(settings: Settings, registry: ListenerRegistry, logger: Logger, checking: Bool = false) throws {
        // The port HTTPS is bound to, for plain HTTP's redirects (bound first, as it may be 0).
        let httpsBound = BoundPort(settings.httpsPort)
        if settings.services.contains("https") {
            let (files, note) = try TLSSetup.certificates(settings, making: !checking)
            summary.append(note)
            var https = HTTPConfiguration(files: try StaticFiles(root: settings.www), logger: logger)
            https.perAddress = settings.addressLimit()
            https.hstsMaxAge = settings.hsts
            if let files {
                let holder = try TLSContextHolder(files: files, ticketKeys: try TLSTicketKeys(),
                                                  configuration: .init(alpn: ["http/1.1"]))
                https.tls = holder
                reloads.append(("tls certificates", { holder.reload() }))
                summary.append(holder.current.fileSendingNote)
            }
            let service = https.service
            summary.append("https: files from \(settings.www)\(settings.hsts.map { ", Strict-Transport-Security max-age=\($0)" } ?? "")")
            ports.append(Port(name: "https", port: settings.httpsPort, flag: "--https-port", datagrams: false) { (address) throws(SocketError) in
                let bound = try registry.addTCP(address, service: service)
                httpsBound.set(bound.port)
                return bound
            })
        }
        if settings.services.contains("http") {
            let files = try StaticFiles(root: settings.www)
            var http = HTTPConfiguration(files: files, logger: logger)
            http.perAddress = settings.addressLimit()
            let redirect = settings.httpRedirect && settings.services.contains("https")
            summary.append(redirect ? "http: a 301 to https for every request" : "http: files from \(settings.www)")
            ports.append(Port(name: "http", port: settings.httpPort, flag: "--http-port", datagrams: false) { (address) throws(SocketError) in
                if redirect { http.redirectToHTTPSPort = httpsBound.port }
                return try registry.addTCP(address, service: http.service)
            })
        }
        if settings.services.contains("dns") {
            let zones = try ZoneStore(folder: settings.zones)
            reloads.append(("dns zones", { zones.reload() }))
            summary.append("dns: \(zones.authority.zones.count) zone(s) from \(settings.zones)"
                + (settings.upstreams.isEmpty ? "" : ", forwarding to \(settings.upstreams.map(\.description).joined(separator: ", "))"))
            let forwarder = settings.upstreams.isEmpty ? nil
                : Forwarder(upstreams: settings.upstreams, cache: UpstreamRecordCache { DispatchTime.now().uptimeNanoseconds / 1_000_000_000 })
            var dns = DNSConfiguration(responder: DNSResponder(zones: zones, forwarder: forwarder,
                                                               allowRecursion: settings.allowRecursion, logger: logger))
            dns.perAddress = settings.addressLimit()
            let stream = dns.service, datagrams = dns.datagramHandler
            ports.append(Port(name: "dns, tcp and udp", port: settings.dnsPort, flag: "--dns-port", datagrams: true) { (address) throws(SocketError) in
                let bound = try registry.addTCP(address, service: stream)
                return try registry.addUDP(bound, handler: datagrams)
            })
        }
        if settings.services.contains("smtp") {
            let store = try MaildirStore(data: settings.data, hostname: Startup.hostname)
            cleanups.append { store.removeCrashLeftovers(logger: logger) }
            ownedFolders += [settings.data, store.root, settings.data + "/spool"]
            let policy = SMTPSession.Policy(hostname: Startup.hostname, domains: settings.mailDomains)
            let service = SMTPConfiguration(policy: policy, store: store, logger: logger, perAddress: settings.addressLimit()).service
            summary.append("smtp: mail for \(settings.mailDomains.joined(separator: ", ")) into \(store.root)")
            ports.append(Port(name: "smtp", port: settings.smtpPort, flag: "--smtp-port", datagrams: false) { (address) throws(SocketError) in
                try registry.addTCP(address, service: service)
            })
        }
        if settings.services.contains("ftp") {
            let users = try FTPUsers(path: settings.ftpUsers)
            reloads.append(("ftp users", { users.reload().map { [$0] } ?? [] }))
            if let error = LocalFiles.createDirectories(settings.ftpRoot) {
                throw Settings.Invalid(description: "cannot create \(settings.ftpRoot): \(errorText(error))")
            }
            let root = try VirtualFS(root: settings.ftpRoot)
            cleanups.append { root.removeAbandonedUploads(logger: logger) }
            ownedFolders.append(settings.ftpRoot)
            var ftp = FTPConfiguration(fs: root, users: users, anonymous: settings.ftpAnonymous, registry: registry,
                                       passivePorts: settings.ftpPassivePorts, logger: logger,
                                       perAddress: settings.addressLimit())
            ftp.passiveAddress = settings.ftpPassiveAddress
            summary.append("ftp: \(users.count) user(s)\(settings.ftpAnonymous ? " and anonymous (read-only)" : ""), root \(settings.ftpRoot)")
            let service = ftp.service
            ports.append(Port(name: "ftp", port: settings.ftpPort, flag: "--ftp-port", datagrams: false) { (address) throws(SocketError) in
                try registry.addTCP(address, service: service)
            })
        }
    }

    /// The listen addresses this host can bind: the default `::` is left out where IPv6 is not
    /// available (said in `notes`).
    static func addresses(_ settings: Settings, notes: inout [String]) -> [IPAddress] {
        settings.listen.filter { ip in
            guard settings.listenIsDefault, ip.isIPv6, !FreePort.familyAvailable(ip) else { return true }
            notes.append("IPv6 is not available here; listening on IPv4 only")
            return false
        }
    }

    /// Binds every port on every address, or ends the process with one line saying why.
    /// A port of 0 becomes one free port shared by all addresses (and by TCP and UDP for DNS).
    func bind(_ addresses: [IPAddress]) -> [String] {
        var lines: [String] = []
        for port in ports {
            let number: UInt16
            do throws(SocketError) {
                number = port.port != 0 ? port.port : try FreePort.common(on: addresses, datagrams: port.datagrams)
            } catch {
                fail(Startup.explain(error, flag: port.flag))
            }
            for ip in addresses {
                do throws(SocketError) {
                    let bound = try port.bind(SocketAddress(ip: ip, port: number))
                    lines.append("listening on \(bound) (\(port.name))")
                } catch {
                    fail(Startup.explain(error, flag: port.flag))
                }
            }
        }
        return lines
    }
}

/// A port known once bound (0 resolves to a free one at bind time).
final class BoundPort: @unchecked Sendable {
    // Set and read on the main thread only, while the plan binds.
    private(set) var port: UInt16

    init(_ port: UInt16) {
        self.port = port
    }

    func set(_ port: UInt16) { self.port = port }
}
