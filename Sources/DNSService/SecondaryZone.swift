import ServerCore

/// One zone we are a secondary for (`--dns-secondary ZONE=PRIMARY[:PORT] [key NAME]`).
public struct SecondaryZone: Sendable, Equatable {
    public let origin: DNSName
    public let primary: SocketAddress
    public let keyName: DNSName?

    public init(origin: DNSName, primary: SocketAddress, keyName: DNSName?) {
        self.origin = origin
        self.primary = primary
        self.keyName = keyName
    }

    /// `example.test=192.0.2.1`, `example.test=[2001:db8::1]:5353 key xfr-key`; nil when malformed.
    public init?(_ text: String) {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard words.count == 1 || (words.count == 3 && words[1] == "key"), let first = words.first else { return nil }
        let parts = first.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let zone = SecondaryZone.absolute(String(parts[0])),
              let primary = SocketAddress(String(parts[1]), defaultPort: 53) else { return nil }
        var key: DNSName?
        if words.count == 3 {
            guard let name = SecondaryZone.absolute(String(words[2])) else { return nil }
            key = name
        }
        self.init(origin: zone, primary: primary, keyName: key)
    }

    private static func absolute(_ text: String) -> DNSName? {
        guard !text.isEmpty else { return nil }
        return DNSName(text.hasSuffix(".") ? text : text + ".")
    }

    /// The file its copy is kept in, in DATA/dns: `example.test.zone`.
    public var fileName: String { origin.isRoot ? "root.zone" : String(origin.description.dropLast()) + ".zone" }

    /// The SOA timers that pace a secondary (RFC 1035 3.3.13), in seconds, at least 1; with
    /// no copy yet, a transfer is retried every `firstRetry` seconds.
    struct Timers: Equatable {
        var refresh: Double
        var retry: Double
        var expire: Double

        static let firstRetry = 10.0

        init(_ soa: RData.SOA?) {
            refresh = soa.map { max(1, Double($0.refresh)) } ?? Timers.firstRetry
            retry = soa.map { max(1, Double($0.retry)) } ?? Timers.firstRetry
            expire = soa.map { max(1, Double($0.expire)) } ?? .infinity
        }
    }
}
