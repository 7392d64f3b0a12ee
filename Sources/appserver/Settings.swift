import DNSService
import Glibc
import Logging
import ServerCore
import SMTPService

/// The settings in force: each from its flag, else the config file, else the default.
struct Settings {
    static let allServices = ["http", "https", "dns", "smtp", "ftp"]
    static let configKeys: Set<String> = [
        "services", "listen", "http-port", "www", "https-port", "tls-cert", "tls-key", "http-redirect", "hsts", "dns-port", "zones", "upstream", "allow-recursion",
        "dns-transfer-allow", "dns-tsig-keys", "dns-transfer-key", "dns-notify", "dns-secondary",
        "smtp-port", "data", "mail-domain", "ftp-port", "ftp-root", "ftp-users", "ftp-anonymous", "ftp-passive-ports",
        "ftp-passive-address",
        "user", "group", "workers", "max-connections", "max-per-address", "per-address-exempt", "log-level", "pid-file",
    ]
    /// Keys that may repeat (their values add up); any other key may be given once.
    static let listKeys: Set<String> = ["services", "listen", "upstream", "allow-recursion", "dns-transfer-allow", "dns-notify",
                                        "dns-secondary", "mail-domain", "per-address-exempt",
                                        "tls-cert", "tls-key"]

    var services: [String]
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
    var upstreams: [SocketAddress]
    var allowRecursion: [IPNetwork]
    var dnsTransfer: DNSTransferSettings
    var smtpPort: UInt16
    var data: String
    var mailDomains: [String]
    var ftpPort: UInt16
    var ftpRoot: String
    var ftpUsers: String
    var ftpAnonymous: Bool
    var ftpPassivePorts: ClosedRange<UInt16>?
    var ftpPassiveAddress: IPAddress?
    var user: String
    var group: String?
    var workers: Int
    var maxConnections: Int
    var maxPerAddress: Int
    var perAddressExempt: [IPNetwork]
    var logLevel: Logger.Level
    var pidFile: String?

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
        upstreams = try parse(list(flags.upstream, "upstream") ?? [], "upstream",
                              as: "IP[:PORT] (e.g. 192.0.2.53 or [2001:db8::53]:5353)") { SocketAddress($0, defaultPort: 53) }
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
        data = path(flags.data, "data", default: "data")
        mailDomains = try parse(list(flags.mailDomain, "mail-domain") ?? ["localhost"], "mail-domain", as: "a domain name") { text in
            MailAddress.isValidDomain(Substring(text)) && !text.hasPrefix("[") ? text.lowercased() : nil
        }

        ftpPort = try number(flags.ftpPort, "ftp-port", default: 21, range: 0...65535)
        ftpRoot = path(flags.ftpRoot, "ftp-root", default: data + "/ftp")
        ftpUsers = path(flags.ftpUsers, "ftp-users", default: "conf/ftp-users")
        func yesNo(_ flag: Bool, _ key: String) throws(Invalid) -> Bool {
            guard !flag, let entry = file?.value(key) else { return flag }
            guard let value = ["yes": true, "true": true, "on": true, "no": false, "false": false, "off": false][entry.value.lowercased()] else {
                throw Invalid(description: "\(file?.path ?? ""):\(entry.line): \(key): expected yes or no, got '\(entry.value)'")
            }
            return value
        }
        ftpAnonymous = try yesNo(flags.ftpAnonymous, "ftp-anonymous")

        httpsPort = try number(flags.httpsPort, "https-port", default: 443, range: 0...65535)
        httpRedirect = try yesNo(flags.httpRedirect, "http-redirect")
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
