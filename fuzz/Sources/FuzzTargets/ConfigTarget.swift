import FTPService
import ServerCore

/// The configuration file and the FTP users file, read from the same text, and the value
/// parsers the settings use on what the config file holds (numbers, addresses, networks).
enum ConfigTarget {
    static let target = FuzzTarget(name: "config", summary: "config file, its values, and the FTP users file") {
        run
    }

    /// The keys of conf/appserver.conf; which ones are known does not change how lines are read.
    static let keys: Set<String> = [
        "services", "listen", "http-port", "www", "dns-port", "zones", "upstream", "allow-recursion", "smtp-port",
        "data", "mail-domain", "ftp-port", "ftp-root", "ftp-users", "ftp-anonymous", "ftp-passive-ports", "user",
        "workers", "max-connections", "max-per-address", "log-level",
    ]

    static func run(_ data: UnsafeRawBufferPointer) {
        let text = String(decoding: data, as: UTF8.self)
        if let file = try? ConfigFile(path: "appserver.conf", text: text, knownKeys: keys) {
            for entry in file.entries {
                require(keys.contains(entry.key) && !entry.value.isEmpty, "entry \(entry.key) = \(entry.value)")
            }
            for key in Set(file.entries.map(\.key)).sorted() {
                require(file.value(key) != nil, "no value for \(key)")
                for item in file.list(key) { values(item) }
            }
        }
        if let users = try? PasswordFile(text: text) {
            require(Set(users.users).count == users.users.count, "a user listed twice")
        }
    }

    static func values(_ item: String) {
        _ = StrictNumber.decimal(item, as: UInt16.self)
        _ = StrictNumber.count(item, max: 1 << 20)
        if let ip = IPAddress(item) { require(IPAddress(ip.description) == ip, "\(item) -> \(ip) does not read back") }
        if let network = IPNetwork(item) {
            require(network.contains(network.address), "\(network) does not contain its own address")
        }
        if let address = SocketAddress(item, defaultPort: 53) {
            require(SocketAddress(address.description, defaultPort: 1) == address, "\(item) -> \(address) does not read back")
        }
        let range = item.split(separator: "-", maxSplits: 1)
        if range.count == 2 { _ = (StrictNumber.decimal(range[0], as: UInt16.self), StrictNumber.decimal(range[1], as: UInt16.self)) }
    }
}
