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
    /// HTTPS's port, for plain HTTP's redirects: set when bound, as it may be 0 until then.
    let httpsPort: BoundPort
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
    /// What starts once serving has begun, in the serving process only (never in the
    /// supervisor, nor for `check`): a DNS secondary's first transfers, the first NOTIFYs.
    var starts: [@Sendable () -> Void] = []

    /// `checking`: for `appserver check`, which writes nothing (no certificate is made).
    init(settings: Settings, registry: ListenerRegistry, logger: Logger, checking: Bool = false) throws {
        httpsPort = BoundPort(settings.httpsPort)
        ownedFolders = DataFolders.written(by: settings)
        folderGroup = try DataFolders.group(named: settings.group)
        // As root they are handed to the run user later; otherwise this user must write them.
        if getuid() != 0 { try DataFolders.checkWritable(ownedFolders) }
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
            summary.append("https: files from \(settings.www)\(settings.hsts.map { ", Strict-Transport-Security max-age=\($0)" } ?? "")")
            handlers["https"] = .stream(https.service)
        }
        if settings.services.contains("http") {
            let files = try StaticFiles(root: settings.www)
            var http = HTTPConfiguration(files: files, logger: logger)
            http.perAddress = settings.addressLimit()
            if settings.httpRedirect { http.redirectToHTTPS = httpsPort }
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
            let forwarder = settings.upstreams.isEmpty ? nil
                : Forwarder(upstreams: settings.upstreams, cache: UpstreamRecordCache { DispatchTime.now().uptimeNanoseconds / 1_000_000_000 })
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
                                                               transfers: policy, secondaries: secondaries, logger: logger))
            dns.perAddress = settings.addressLimit()
            handlers["dns-tcp"] = .stream(dns.service)
            handlers["dns-udp"] = .datagrams(dns.datagramHandler)
        }
        if settings.services.contains("smtp") {
            let store = try MaildirStore(data: settings.data, hostname: Startup.hostname)
            cleanups.append(("smtp", { store.removeCrashLeftovers(logger: logger) }))
            let policy = SMTPSession.Policy(hostname: Startup.hostname, domains: settings.mailDomains)
            let service = SMTPConfiguration(policy: policy, store: store, logger: logger, perAddress: settings.addressLimit()).service
            summary.append("smtp: mail for \(settings.mailDomains.joined(separator: ", ")) into \(store.root)")
            handlers["smtp"] = .stream(service)
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
            summary.append("ftp: \(users.count) user(s)\(settings.ftpAnonymous ? " and anonymous (read-only)" : ""), root \(settings.ftpRoot)")
            handlers["ftp"] = .stream(ftp.service)
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
}

