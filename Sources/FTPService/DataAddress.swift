import ServerCore

/// PORT and EPRT arguments (RFC 959 4.1.2, RFC 2428 2), parsed strictly: every number is
/// digits only (no sign or blank) within its range, every field counted before it is read.
public enum DataAddress {
    /// `h1,h2,h3,h4,p1,p2`
    public static func port(_ argument: String) -> SocketAddress? {
        let fields = argument.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count == 6 else { return nil }
        let numbers = fields.compactMap { StrictNumber.decimal($0, as: UInt8.self) }
        guard numbers.count == 6, let ip = IPAddress(numbers[0..<4].map(String.init).joined(separator: ".")) else { return nil }
        return SocketAddress(ip: ip, port: UInt16(numbers[4]) << 8 | UInt16(numbers[5]))
    }

    /// `|1|192.0.2.1|5282|` or `|2|2001:db8::1|5282|`, any delimiter.
    public static func eprt(_ argument: String) -> SocketAddress? {
        guard let fields = eprtFields(argument), ["1", "2"].contains(fields[1]),
              fields[2].allSatisfy({ $0.isHexDigit || $0 == "." || $0 == ":" }),
              let ip = IPAddress(String(fields[2])), ip.isIPv6 == (fields[1] == "2"),
              let port = StrictNumber.decimal(fields[3], as: UInt16.self) else { return nil }
        return SocketAddress(ip: ip, port: port)
    }

    public static func eprtFamilyUnknown(_ argument: String) -> Bool {
        guard let fields = eprtFields(argument) else { return false }
        return !["1", "2"].contains(fields[1])
    }

    /// The five fields of `<d>proto<d>address<d>port<d>`, the first and last empty.
    private static func eprtFields(_ argument: String) -> [Substring]? {
        guard let delimiter = argument.first else { return nil }
        let fields = argument.split(separator: delimiter, omittingEmptySubsequences: false)
        guard fields.count == 5, fields[0].isEmpty, fields[4].isEmpty else { return nil }
        return fields
    }

    /// EPSV's argument (RFC 2428 3): none, a protocol number, or ALL; nil for anything else.
    public enum PassiveRequest: Equatable, Sendable { case any, ipv4, ipv6, all }

    public static func epsv(_ argument: String) -> PassiveRequest? {
        if argument.isEmpty { return .any }
        if argument.uppercased() == "ALL" { return .all }
        switch StrictNumber.decimal(argument, as: UInt8.self) {
        case 1: return .ipv4
        case 2: return .ipv6
        default: return nil
        }
    }

    /// The same host, counting an IPv4 peer seen as IPv4-mapped IPv6 (`::ffff:a.b.c.d`).
    public static func sameHost(_ a: IPAddress, _ b: IPAddress) -> Bool {
        (ipv4(a) ?? a.bytes) == (ipv4(b) ?? b.bytes)
    }

    /// The four bytes of an IPv4 address, plain or IPv4-mapped; nil for real IPv6.
    public static func ipv4(_ ip: IPAddress) -> [UInt8]? {
        let bytes = ip.bytes
        if bytes.count == 4 { return bytes }
        return bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF ? Array(bytes[12...]) : nil
    }
}
