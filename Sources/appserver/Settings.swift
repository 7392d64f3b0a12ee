import DNSService
import FTPService
import Glibc
import Logging
import ServerCore
import FTPService
import SMTPService

/// The settings in force: each from its flag, else the config file, else the default.
struct Settings {
    static let allServices = ["http", "https", "dns", "smtp", "ftp"]
    static let configKeys: Set<String> = [
        "services", "listen", "http-port", "www", "https-port", "tls-cert", "tls-key", "http-redirect", "hsts", "dns-port", "zones", "upstream", "allow-recursion",
        "dot-port", "upstream-ca",
        "dns-transfer-allow", "dns-tsig-keys", "dns-transfer-key", "dns-notify", "dns-secondary",
        "smtp-port", "smtp-tls", "smtps-port", "data", "mail-domain", "ftp-port", "ftp-root", "ftp-users", "ftp-anonymous", "ftp-passive-ports",
        "ftp-passive-address", "ftps-port", "ftp-tls", "ftp-tls-reuse",
        "user", "group", "workers", "max-connections", "max-per-address", "per-address-exempt", "log-level", "pid-file",
        "admin-listen", "admin-user", "log-file", "log-format", "single-process",
    ]
    /// Keys that may repeat (their values add up); any other key may be given once.
    static let listKeys: Set<String> = ["services", "listen", "upstream", "allow-recursion", "dns-transfer-allow", "dns-notify",
                                        "dns-secondary", "mail-domain", "per-address-exempt",
                                        "tls-cert", "tls-key"]

    var services: [String]
    /// The services of the whole run, with `admin` when it listens (`services` is a
    /// supervised child's own).
    let configuredServices: [String]
    var listen: [IPAddress]
    /// Whether `listen` is the default pair, where a host without IPv6 may skip `::`.
    var listenIsDefault: Bool
    var httpPort: UInt16
    var www: String
    var httpsPort: UInt16
    /// The certificate and key pairs given; empty: the self-signed one in DATA/tls.
    var tlsPairs: [TLSCertificateFiles]
    var httpRedirect: Bool
    var hsts: Int?
    var dnsPort: UInt16
    var zones: String
    /// nil: `off`, DNS over TLS not served.
    var dotPort: UInt16?
    var upstreams: [Upstream]
    /// The CA file tls:// upstreams are verified against; nil: the system's store.
    var upstreamCA: String?
    var allowRecursion: [IPNetwork]
    var dnsTransfer: DNSTransferSettings
    var smtpPort: UInt16
    var smtpTLS: SMTPSession.TLSPolicy
    /// Implicit TLS; nil: off.
    var smtpsPort: UInt16?
    var data: String
    var mailDomains: [String]
    var ftpPort: UInt16
    var ftpRoot: String
    var ftpUsers: String
    var ftpAnonymous: Bool
    var ftpPassivePorts: ClosedRange<UInt16>?
    var ftpPassiveAddress: IPAddress?
    /// Implicit FTPS's port; nil: none.
    var ftpsPort: UInt16?
    var ftpTLS: FTPSession.TLSPolicy
    var ftpTLSReuse: Bool
    var user: String
    var group: String?
    var workers: Int
    var maxConnections: Int
    var maxPerAddress: Int
    var perAddressExempt: [IPNetwork]
    var logLevel: Logger.Level
    var pidFile: String?
    /// nil: `off`.
    var adminListen: SocketAddress?
    var adminUser: (name: String, check: PasswordFile)?
    var logFile: String?
    var logFormat: LogOutput.Format
    var singleProcess: Bool

    /// An admin listener beyond loopback speaks HTTPS (with the TLS services' certificates),
    /// so that its basic-auth password never crosses a network in the clear.
    var adminOverTLS: Bool { adminListen.map(Settings.beyondLoopback) ?? false }

    static func beyondLoopback(_ address: SocketAddress) -> Bool { !IPNetwork.loopback.contains { $0.contains(address.ip) } }

    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    init(flags: Options, file: ConfigFile?) throws(Invalid) {
        func pick(_ flag: String?, _ key: String) -> (value: String, origin: String)? {
            if let flag { return (flag, "--\(key)") }
            if let file, let entry = file.value(key) { return (entry.value, "\(file.path):\(entry.line): \(key)") }
            return nil
        }
        func number<T: FixedWidthInteger>(_ flag: String?, _ key: String, default value: T, range: ClosedRange<T>) throws(Invalid) -> T {
            guard let (text, origin) = pick(flag, key) else { return value }
            guard let n = StrictNumber.decimal(text).flatMap({ T(exactly: $0) }), range.contains(n) else {
                throw Invalid(description: "\(origin): expected a number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
            }
            return n
        }
        let base = file.map { Settings.directory(of: $0.path) }
        // Absolute from here on, so that an error names the folder a relative path meant.
        func path(_ flag: String?, _ key: String, default value: String) -> String {
            if let flag { return Settings.absolute(flag) }
            if let entry = file?.value(key) { return Settings.absolute(Settings.resolve(entry.value, against: base)) }
            return Settings.absolute(value)
        }
        func list(_ flags: [String], _ key: String) -> [String]? {
            let values = !flags.isEmpty ? flags.flatMap { $0.split(separator: ",").map(String.init) } : file?.list(key) ?? []
            return values.isEmpty ? nil : values
        }
        func yesOrNo(_ flag: Bool, _ key: String) throws(Invalid) -> Bool {
            guard !flag, let file, let entry = file.value(key) else { return flag }
            guard let value = ["yes": true, "true": true, "on": true, "no": false, "false": false, "off": false][entry.value.lowercased()] else {
                throw Invalid(description: "\(file.path):\(entry.line): \(key): expected yes or no, got '\(entry.value)'")
            }
            return value
        }
        func parse<T>(_ texts: [String], _ key: String, as what: String, _ make: (String) -> T?) throws(Invalid) -> [T] {
            var values: [T] = []
            for text in texts {
                guard let value = make(text) else { throw Invalid(description: "--\(key): '\(text)' is not \(what)") }
                values.append(value)
            }
            return values
        }

        let serviceNames = list(flags.services, "services") ?? Settings.allServices
        for name in serviceNames where !Settings.allServices.contains(name) {
            throw Invalid(description: "unknown service '\(name)' (this build has: \(Settings.allServices.joined(separator: ", ")))")
        }
        services = serviceNames
        let adminText = pick(flags.adminListen, "admin-listen")
        if adminText?.value == "off" {
            adminListen = nil
        } else {
            let text = adminText?.value ?? "127.0.0.1:9180"
            guard let address = SocketAddress(text, defaultPort: 9180), text.contains(":") else {
                throw Invalid(description: "\(adminText?.origin ?? "--admin-listen"): expected ADDR:PORT or off, got '\(text)'")
            }
            adminListen = address
            services.append("admin")
        }
        if let (text, origin) = pick(flags.adminUser, "admin-user") {
            guard let check = try? PasswordFile(text: text, path: origin), let name = check.users.first, check.users.count == 1 else {
                throw Invalid(description: "\(origin): expected name:crypt-hash (as 'appserver passwd NAME' prints)")
            }
            adminUser = (name, check)
        } else {
            adminUser = nil
        }
        if let adminListen, adminUser == nil, Settings.beyondLoopback(adminListen) {
            throw Invalid(description: "--admin-listen \(adminListen) is beyond loopback: it needs --admin-user name:hash")
        }
        configuredServices = services
        logFile = pick(flags.logFile, "log-file").map { _ in path(flags.logFile, "log-file", default: "") }
        let formatText = pick(flags.logFormat, "log-format")
        guard let format = LogOutput.Format(rawValue: formatText?.value ?? "text") else {
            throw Invalid(description: "\(formatText?.origin ?? ""): expected text or json, got '\(formatText?.value ?? "")'")
        }
        logFormat = format

        let listenText = list(flags.listen, "listen")
        listenIsDefault = listenText == nil
        listen = try parse(listenText ?? ["0.0.0.0", "::"], "listen", as: "an IPv4 or IPv6 address") { IPAddress($0) }

        httpPort = try number(flags.httpPort, "http-port", default: 80, range: 0...65535)
        workers = try number(flags.workers, "workers", default: max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))), range: 1...256)
        maxConnections = try number(flags.maxConnections, "max-connections", default: 10_000, range: 1...1_000_000)
        maxPerAddress = try number(flags.maxPerAddress, "max-per-address", default: 50, range: 1...1_000_000)
        if let texts = list(flags.perAddressExempt, "per-address-exempt") {
            perAddressExempt = texts == ["none"] ? []
                : try parse(texts, "per-address-exempt", as: "an address or CIDR prefix, or none") { IPNetwork($0) }
        } else {
            perAddressExempt = IPNetwork.loopback
        }
        user = pick(flags.user, "user")?.value ?? "nobody"
        group = pick(flags.group, "group")?.value
        pidFile = pick(flags.pidFile, "pid-file").map { _ in path(flags.pidFile, "pid-file", default: "") }

        www = path(flags.www, "www", default: "www")
        dnsPort = try number(flags.dnsPort, "dns-port", default: 53, range: 0...65535)
        zones = path(flags.zones, "zones", default: "conf/zones")
        dotPort = pick(flags.dotPort, "dot-port")?.0 == "off" ? nil : try number(flags.dotPort, "dot-port", default: 853, range: 0...65535)
        upstreams = try parse(list(flags.upstream, "upstream") ?? [], "upstream",
                              as: "IP[:PORT] or tls://IP[:PORT]#NAME (e.g. 192.0.2.53, [2001:db8::53]:5353 or tls://9.9.9.9#dns.quad9.net)") { Upstream($0) }
        upstreamCA = pick(flags.upstreamCa, "upstream-ca").map { _ in path(flags.upstreamCa, "upstream-ca", default: "") }
        if let texts = list(flags.allowRecursion, "allow-recursion") {
            allowRecursion = try parse(texts, "allow-recursion", as: "an address or CIDR prefix (e.g. 10.0.0.0/8)") { IPNetwork($0) }
        } else {
            allowRecursion = IPNetwork.localAndPrivate
        }
        dnsTransfer = DNSTransferSettings(
            allowed: try parse(list(flags.dnsTransferAllow, "dns-transfer-allow") ?? [], "dns-transfer-allow",
                               as: "an address or CIDR prefix (e.g. 192.0.2.2/32)") { IPNetwork($0) },
            keysFile: pick(flags.dnsTsigKeys, "dns-tsig-keys").map { _ in path(flags.dnsTsigKeys, "dns-tsig-keys", default: "") },
            requiredKey: pick(flags.dnsTransferKey, "dns-transfer-key"),
            notify: try parse(list(flags.dnsNotify, "dns-notify") ?? [], "dns-notify",
                              as: "IP[:PORT] (e.g. 192.0.2.2 or [2001:db8::2]:5353)") { SocketAddress($0, defaultPort: 53) },
            secondaries: try parse(list(flags.dnsSecondary, "dns-secondary") ?? [], "dns-secondary",
                                   as: "ZONE=PRIMARY[:PORT], optionally followed by 'key NAME'") { SecondaryZone($0) })

        smtpPort = try number(flags.smtpPort, "smtp-port", default: 25, range: 0...65535)
        if let (text, origin) = pick(flags.smtpTls, "smtp-tls") {
            guard let mode = SMTPSession.TLSPolicy(rawValue: text.lowercased()) else {
                throw Invalid(description: "\(origin): expected optional, required or off, got '\(text)'")
            }
            smtpTLS = mode
        } else {
            smtpTLS = .optional
        }
        smtpsPort = pick(flags.smtpsPort, "smtps-port") == nil ? nil : try number(flags.smtpsPort, "smtps-port", default: 0, range: 0...65535)
        if let (_, origin) = pick(flags.smtpsPort, "smtps-port"), smtpTLS == .off {
            throw Invalid(description: "\(origin): SMTPS is TLS, which smtp-tls off turns off")
        }
        data = path(flags.data, "data", default: "data")
        mailDomains = try parse(list(flags.mailDomain, "mail-domain") ?? ["localhost"], "mail-domain", as: "a domain name") { text in
            MailAddress.isValidDomain(Substring(text)) && !text.hasPrefix("[") ? text.lowercased() : nil
        }

        ftpPort = try number(flags.ftpPort, "ftp-port", default: 21, range: 0...65535)
        ftpRoot = path(flags.ftpRoot, "ftp-root", default: data + "/ftp")
        ftpUsers = path(flags.ftpUsers, "ftp-users", default: "conf/ftp-users")
        ftpAnonymous = try yesOrNo(flags.ftpAnonymous, "ftp-anonymous")
        ftpTLS = .optional
        if let (text, origin) = pick(flags.ftpTLS, "ftp-tls") {
            guard let policy = FTPSession.TLSPolicy(rawValue: text.lowercased()) else {
                throw Invalid(description: "\(origin): expected required, optional or off, got '\(text)'")
            }
            ftpTLS = policy
        }
        ftpTLSReuse = true
        if let (text, origin) = pick(flags.ftpTLSReuse, "ftp-tls-reuse") {
            guard let value = ["yes": true, "no": false][text.lowercased()] else {
                throw Invalid(description: "\(origin): expected yes or no, got '\(text)'")
            }
            ftpTLSReuse = value
        }
        ftpsPort = pick(flags.ftpsPort, "ftps-port") == nil ? nil : try number(flags.ftpsPort, "ftps-port", default: 0, range: 0...65535)
        if ftpsPort != nil && ftpTLS == .off {
            throw Invalid(description: "ftps-port: implicit FTPS needs ftp-tls optional or required, not off")
        }

        httpsPort = try number(flags.httpsPort, "https-port", default: 443, range: 0...65535)
        httpRedirect = try yesOrNo(flags.httpRedirect, "http-redirect")
        hsts = pick(flags.hsts, "hsts") == nil ? nil : try number(flags.hsts, "hsts", default: 0, range: 0...Int(Int32.max))
        func paths(_ flags: [String], _ key: String) -> [String] {
            !flags.isEmpty ? flags : (file?.list(key) ?? []).map { Settings.resolve($0, against: base) }
        }
        let certificates = paths(flags.tlsCert, "tls-cert"), keys = paths(flags.tlsKey, "tls-key")
        guard certificates.count == keys.count else {
            throw Invalid(description: "tls-cert and tls-key go in pairs: \(certificates.count) certificate(s) but \(keys.count) key(s)")
        }
        tlsPairs = zip(certificates, keys).map { TLSCertificateFiles(certificate: $0, key: $1) }
        if let (text, origin) = pick(flags.ftpPassivePorts, "ftp-passive-ports") {
            let bounds = text.split(separator: "-", omittingEmptySubsequences: false).map {
                StrictNumber.decimal($0.trimmingBlanks, as: UInt16.self)
            }
            guard bounds.count == 2, let low = bounds[0], let high = bounds[1], low >= 1024, low <= high else {
                throw Invalid(description: "\(origin): expected MIN-MAX with 1024 <= MIN <= MAX <= 65535, got '\(text)'")
            }
            ftpPassivePorts = low...high
        } else {
            ftpPassivePorts = nil
        }
        if let (text, origin) = pick(flags.ftpPassiveAddress, "ftp-passive-address") {
            // PASV's reply can only carry IPv4 (EPSV carries no address).
            guard let ip = IPAddress(text), !ip.isIPv6 else {
                throw Invalid(description: "\(origin): expected an IPv4 address, got '\(text)'")
            }
            ftpPassiveAddress = ip
        } else {
            ftpPassiveAddress = nil
        }

        let levelText = pick(flags.logLevel, "log-level")
        if let levelText {
            guard let level = Logger.Level(rawValue: levelText.value) else {
                throw Invalid(description: "\(levelText.origin): expected one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            logLevel = level
        } else {
            logLevel = .info
        }
        singleProcess = try yesOrNo(flags.singleProcess, "single-process")
    }

    /// A service's own per-address count, under the one cap.
    func addressLimit() -> AddressLimit { AddressLimit(maxPerAddress: maxPerAddress, exempt: perAddressExempt) }

    /// Paths in the config file are relative to the file's own folder.
    static func resolve(_ path: String, against base: String?) -> String {
        guard let base, !path.hasPrefix("/") else { return path }
        return LocalFiles.normalized(base + "/" + path)
    }

    /// A relative path taken against the current folder.
    static func absolute(_ path: String) -> String {
        guard !path.hasPrefix("/"), let cwd = getcwd(nil, 0) else { return path }
        defer { free(cwd) }
        return LocalFiles.normalized(String(cString: cwd) + "/" + path)
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
