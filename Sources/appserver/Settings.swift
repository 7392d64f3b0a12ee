import Glibc
import Logging
import ServerCore

/// The settings in force: each from its flag, else the config file, else the default.
struct Settings {
    static let allServices = ["http"]
    static let configKeys: Set<String> = [
        "services", "listen", "http-port", "www", "user", "workers", "max-connections", "log-level",
    ]

    var services: [String]
    var listen: [IPAddress]
    /// Whether `listen` is the default pair, where a host without IPv6 may skip `::`.
    var listenIsDefault: Bool
    var httpPort: UInt16
    var www: String
    var user: String
    var workers: Int
    var maxConnections: Int
    var logLevel: Logger.Level

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
            guard let n = T(text), range.contains(n) else {
                throw Invalid(description: "\(origin): expected a number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
            }
            return n
        }
        let base = file.map { Settings.directory(of: $0.path) }

        let serviceNames = !flags.services.isEmpty ? flags.services.flatMap { $0.split(separator: ",").map(String.init) }
            : (file?.list("services")).flatMap { $0.isEmpty ? nil : $0 } ?? Settings.allServices
        for name in serviceNames where !Settings.allServices.contains(name) {
            throw Invalid(description: "unknown service '\(name)' (this build has: \(Settings.allServices.joined(separator: ", ")))")
        }
        services = serviceNames

        let listenText = !flags.listen.isEmpty ? flags.listen.flatMap { $0.split(separator: ",").map(String.init) } : (file?.list("listen")).flatMap { $0.isEmpty ? nil : $0 }
        listenIsDefault = listenText == nil
        listen = []
        for text in listenText ?? ["0.0.0.0", "::"] {
            guard let ip = IPAddress(text) else { throw Invalid(description: "--listen: '\(text)' is not an IPv4 or IPv6 address") }
            listen.append(ip)
        }

        httpPort = try number(flags.httpPort, "http-port", default: 80, range: 0...65535)
        workers = try number(flags.workers, "workers", default: max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))), range: 1...256)
        maxConnections = try number(flags.maxConnections, "max-connections", default: 10_000, range: 1...1_000_000)
        user = pick(flags.user, "user")?.value ?? "nobody"

        if let www = flags.www {
            self.www = www
        } else if let entry = file?.value("www") {
            self.www = Settings.resolve(entry.value, against: base)
        } else {
            www = "www"
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

    /// Paths in the config file are relative to the file's own folder.
    static func resolve(_ path: String, against base: String?) -> String {
        guard let base, !path.hasPrefix("/") else { return path }
        return base + "/" + path
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
