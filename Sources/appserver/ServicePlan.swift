import AdminService
import Dispatch
import DNSService
import FTPService
import Glibc
import HTTPService
import Logging
import ServerCore
import SMTPService

/// What the settings ask for, built and checked before anything is bound: every service's
/// files, zones, users and folders loaded, and a handler for each of its sockets (named as
/// in `SocketRow.all`). `serve` binds and runs it; `check` only prints it. Nothing here binds
/// a socket or writes a log line.
struct ServicePlan {
    enum Handler {
        case stream(TCPService)
        case datagrams(any DatagramHandler)
    }

    var handlers: [String: Handler] = [:]
    /// Each socket's port by its name in `SocketRow.all` (none for a socket that is off), set
    /// when bound (it may be 0 until then): for plain HTTP's redirects to HTTPS and the default page.
    let ports: [String: BoundPort]
    var reloads: [(name: String, reload: @Sendable () -> [String])] = []
    /// Folders the services write, handed to the run user when started as root.
    var ownedFolders: [String] = []
    /// The group those folders get when started as root (nil: the run user's), see `DataFolders`.
    var folderGroup: gid_t?
    /// What each service will do, said once serving starts.
    var summary: [String] = []
    /// Removing what a crash left (spool files, upload temporaries), by service: `serve` runs
    /// these (the supervisor before a service's process starts), `check` does not.
    var cleanups: [(service: String, run: @Sendable () -> Void)] = []
    /// The zones served, for the console.
    var zones: ZoneStore?
    /// The admin listener's state, when this process serves it.
    var hub: AdminHub?
    /// What starts once serving has begun, in the serving process only (never in the
    /// supervisor, nor for `check`): a DNS secondary's first transfers, the first NOTIFYs.
    var starts: [@Sendable () -> Void] = []

    /// `checking`: for `appserver check`, which writes nothing (no certificate is made).
    init(settings: Settings, registry: ListenerRegistry, logger: Logger, observability: Observability? = nil, checking: Bool = false) throws {
        let metrics = observability
        ports = Dictionary(uniqueKeysWithValues: SocketRow.all.compactMap { row in row.port(settings).map { (row.name, BoundPort($0)) } })
        ownedFolders = DataFolders.written(by: settings)
        folderGroup = try DataFolders.group(named: settings.group)
        // As root they are handed to the run user later; otherwise this user must write them.
        if getuid() != 0 { try DataFolders.checkWritable(ownedFolders) }
        // The generated certificate never changes, and in DATA/tls (0700, root's when started
        // as root) it cannot be read again once privileges are dropped: only given ones reload.
        func reloadIfGiven(_ name: String, _ holder: TLSContextHolder) {
            if !settings.tlsPairs.isEmpty { reloads.append((name, { holder.reload() })) }
        }
        // One set of certificate files for every TLS service (made once when none is given).
        let certificates = TLSSetup.wanted(settings) ? try TLSSetup.certificates(settings, making: !checking) : nil
        if let note = certificates?.note { summary.append(note) }
        // The shipped page with this run's ports, for HTTP and HTTPS alike (read once).
        let pages = settings.services.contains("http") || settings.services.contains("https") ? DefaultPage.pages(settings, ports: ports) : [:]
        if settings.services.contains("https") {
            var https = HTTPConfiguration(files: try StaticFiles(root: settings.www, generated: pages), logger: logger)
            https.perAddress = settings.addressLimit()
            https.hstsMaxAge = settings.hsts
            https.metrics = metrics?.https
            if let metrics, let counters = metrics.https { metrics.collect { [cache = https.gzipCache] in counters.collect(cache) } }
            if let files = certificates?.files {
                let holder = try TLSContextHolder(files: files, ticketKeys: try TLSTicketKeys(),
                                                  configuration: .init(alpn: ["http/1.1"]))
                https.tls = holder
                reloadIfGiven("tls certificates", holder)
                summary.append(holder.current.fileSendingNote)
            }
            summary.append("https: files from \(settings.www)\(settings.hsts.map { ", Strict-Transport-Security max-age=\($0)" } ?? "")")
            handlers["https"] = .stream(https.service)
        }
        if settings.services.contains("http") {
            let files = try StaticFiles(root: settings.www, generated: pages)
            var http = HTTPConfiguration(files: files, logger: logger)
            http.perAddress = settings.addressLimit()
            http.metrics = metrics?.http
            if let metrics, let counters = metrics.http { metrics.collect { [cache = http.gzipCache] in counters.collect(cache) } }
            if settings.httpRedirect { http.redirectToHTTPS = ports["https"] }
            summary.append(settings.httpRedirect ? "http: a 301 to https for every request" : "http: files from \(settings.www)")
            handlers["http"] = .stream(http.service)
        }
        if settings.services.contains("dns") {
            let policy = try settings.dnsTransfer.policy()
            let secondaryList = settings.dnsTransfer.secondaries
            let copiesFolder = settings.data + "/dns"
            let kept = Secondaries.loadCopies(secondaryList, folder: copiesFolder)
            summary += kept.problems.map { "dns: \($0)" }
            let zones = try ZoneStore(folder: settings.zones,
                                      secondaries: Dictionary(uniqueKeysWithValues: secondaryList.map { ($0.origin, kept.copies[$0.origin]?.zone) }))
            // Loaded now, before privileges drop: the CA file may be readable by root only.
            let upstreamTLS = try settings.upstreams.contains { $0.tlsName != nil }
                ? Forwarder.TLSSetup(registry: registry, context: TLSClientContext(caFile: settings.upstreamCA, alpn: ["dot"])) : nil
            let forwarder = settings.upstreams.isEmpty ? nil
                : Forwarder(upstreams: settings.upstreams, cache: UpstreamRecordCache { DispatchTime.now().uptimeNanoseconds / 1_000_000_000 },
                            tls: upstreamTLS, logger: logger)
            let notifier = NotifySender(extras: settings.dnsTransfer.notify, key: policy.requiredKey.flatMap { policy.keys[$0] },
                                        forwarder: forwarder, logger: logger)
            reloads.append(("dns zones", {
                let before = zones.primaryZones
                let problems = zones.reload()
                notifier.zonesChanged(from: before, to: zones.primaryZones)
                return problems
            }))
            starts.append { notifier.zonesChanged(from: [], to: zones.primaryZones) }
            summary.append("dns: \(zones.primaryZones.count) zone(s) from \(settings.zones)"
                + (settings.upstreams.isEmpty ? "" : ", forwarding to \(settings.upstreams.map(\.description).joined(separator: ", "))"))
            if !zones.ignoredFiles.isEmpty {
                summary.append("dns: not loaded from \(settings.zones), neither *.zone nor $INCLUDEd: \(zones.ignoredFiles.joined(separator: ", "))")
            }
            var secondaries: Secondaries?
            if !secondaryList.isEmpty {
                if !checking, let error = LocalFiles.createDirectories(copiesFolder) {
                    throw Settings.Invalid(description: "cannot create \(copiesFolder): \(errorText(error))")
                }
                let manager = Secondaries(secondaryList, keys: policy.keys, store: zones, folder: copiesFolder, copies: kept.copies,
                                          logger: logger) { [registry] primary, service in
                    registry.connect(to: primary, from: nil, service: service, timeout: 10)
                }
                starts.append { manager.start() }
                secondaries = manager
                for zone in secondaryList {
                    summary.append("dns: secondary for \(zone.origin) from \(zone.primary)\(zone.keyName.map { " (TSIG key \($0))" } ?? "")"
                        + (kept.copies[zone.origin] == nil ? ", no copy yet (SERVFAIL until the first transfer)" : ", serving the copy kept in \(copiesFolder)"))
                }
            }
            var dns = DNSConfiguration(responder: DNSResponder(zones: zones, forwarder: forwarder,
                                                               allowRecursion: settings.allowRecursion,
                                                               transfers: policy, secondaries: secondaries, logger: logger,
                                                               metrics: metrics?.dns))
            if let metrics, let counters = metrics.dns { metrics.collect { counters.collect(zones: zones, forwarder: forwarder) } }
            self.zones = zones
            dns.perAddress = settings.addressLimit()
            handlers["dns-tcp"] = .stream(dns.service)
            handlers["dns-udp"] = .datagrams(dns.datagramHandler)
            if settings.dotPort == nil {
                summary.append("dns: DNS over TLS off")
            } else if let files = certificates?.files {
                // Strict ALPN (RFC 7858 3.2 names `dot`): a client offering only others is refused.
                let holder = try TLSContextHolder(files: files, ticketKeys: try TLSTicketKeys(), configuration: .init(alpn: ["dot"]))
                reloadIfGiven("dns tls certificates", holder)
                handlers["dot"] = .stream(dns.dotService(tls: holder))
                summary.append("dns: DNS over TLS")
            } else {
                summary.append("dns: DNS over TLS once the certificate is made")
            }
        }
        if settings.services.contains("smtp") {
            let store = try MaildirStore(data: settings.data, hostname: Startup.hostname)
            cleanups.append(("smtp", { store.removeCrashLeftovers(logger: logger) }))
            let policy = SMTPSession.Policy(hostname: Startup.hostname, domains: settings.mailDomains, tls: settings.smtpTLS)
            var smtp = SMTPConfiguration(policy: policy, store: store, logger: logger, perAddress: settings.addressLimit())
            smtp.metrics = metrics?.smtp
            if settings.smtpTLS != .off, let files = certificates?.files {
                let holder = try TLSContextHolder(files: files, ticketKeys: try TLSTicketKeys(),
                                                  configuration: .init(alpn: SMTPConfiguration.alpn))
                smtp.tls = holder
                reloadIfGiven("smtp tls certificates", holder)
            }
            summary.append("smtp: mail for \(settings.mailDomains.joined(separator: ", ")) into \(store.root)"
                + (smtp.tls == nil ? ", no STARTTLS" : ", STARTTLS \(settings.smtpTLS.rawValue)")
                + (settings.smtpsPort == nil ? "" : ", SMTPS (implicit TLS)"))
            handlers["smtp"] = .stream(smtp.service)
            // Also when --smtps-port is off: a socket named smtps may be handed in by systemd.
            if let smtps = smtp.implicitTLSService { handlers["smtps"] = .stream(smtps) }
        }
        if settings.services.contains("ftp") {
            let users = try FTPUsers(path: settings.ftpUsers)
            reloads.append(("ftp users", { users.reload().map { [$0] } ?? [] }))
            if let error = LocalFiles.createDirectories(settings.ftpRoot) {
                throw Settings.Invalid(description: "cannot create \(settings.ftpRoot): \(errorText(error))")
            }
            let root = try VirtualFS(root: settings.ftpRoot)
            cleanups.append(("ftp", { root.removeAbandonedUploads(logger: logger) }))
            var ftp = FTPConfiguration(fs: root, users: users, anonymous: settings.ftpAnonymous, registry: registry,
                                       passivePorts: settings.ftpPassivePorts, logger: logger,
                                       perAddress: settings.addressLimit())
            ftp.passiveAddress = settings.ftpPassiveAddress
            ftp.metrics = metrics?.ftp
            summary.append("ftp: \(users.count) user(s)\(settings.ftpAnonymous ? " and anonymous (read-only)" : ""), root \(settings.ftpRoot)")
            if settings.ftpTLS != .off {
                if let files = certificates?.files {
                    // ALPN `ftp` (RFC 7301's registry), strict: a client asking only for others is refused.
                    let holder = try TLSContextHolder(files: files, ticketKeys: try TLSTicketKeys(), configuration: .init(alpn: ["ftp"]))
                    ftp.tls = holder
                    reloadIfGiven("ftp tls certificates", holder)
                }
                ftp.tlsPolicy = settings.ftpTLS
                ftp.tlsReuse = settings.ftpTLSReuse
                summary.append("ftp: TLS \(settings.ftpTLS.rawValue) (AUTH TLS\(settings.ftpsPort == nil ? "" : ", implicit FTPS")), "
                    + (settings.ftpTLSReuse ? "data connections must resume the control connection's TLS session" : "no TLS session reuse required"))
            }
            handlers["ftp"] = .stream(ftp.service)
            handlers["ftps"] = .stream(ftp.implicitTLSService)
        }
        if settings.services.contains("admin"), let address = settings.adminListen {
            // Made here in the supervisor too, so that its children find the certificate made.
            let tls = settings.adminOverTLS ? try adminTLS(certificates?.files, settings) : nil
            summary.append("admin: metrics, health and the console on \(settings.adminOverTLS ? "https" : "http")://\(address)/"
                           + (settings.adminUser.map { " (user \($0.name))" } ?? ""))
            if let observability {
                let hub = AdminHub(settings: settings, observability: observability)
                var admin = AdminConfiguration(logger: logger) { AdminRoutes.answer($0, hub: hub) }
                admin.observer = observability.admin
                admin.tls = tls
                handlers["admin"] = .stream(admin.service)
                self.hub = hub
            }
        }
    }

    /// The admin listener's TLS context, from the same certificates as HTTPS; nil when `check`
    /// finds no certificate made yet.
    private mutating func adminTLS(_ files: [TLSCertificateFiles]?, _ settings: Settings) throws -> TLSContextHolder? {
        guard let files else { return nil }
        let holder = try TLSContextHolder(files: files, ticketKeys: try TLSTicketKeys(), configuration: .init(alpn: ["http/1.1"]))
        if !settings.tlsPairs.isEmpty { reloads.append(("admin tls certificates", { holder.reload() })) }
        return holder
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
}

