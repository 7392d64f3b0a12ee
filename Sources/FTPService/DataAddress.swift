import ServerCore

/// PORT and EPRT arguments (RFC 959 4.1.2, RFC 2428 2).
enum DataAddress {
    /// `h1,h2,h3,h4,p1,p2`
    static func port(_ argument: String) -> SocketAddress? {
        let numbers = argument.split(separator: ",").compactMap { UInt8($0.trimmingBlanks) }
        guard numbers.count == 6, argument.split(separator: ",").count == 6,
              let ip = IPAddress(numbers[0..<4].map(String.init).joined(separator: ".")) else { return nil }
        return SocketAddress(ip: ip, port: UInt16(numbers[4]) << 8 | UInt16(numbers[5]))
    }

    /// `|1|192.0.2.1|5282|` or `|2|2001:db8::1|5282|`, any delimiter.
    static func eprt(_ argument: String) -> SocketAddress? {
        guard let delimiter = argument.first else { return nil }
        let fields = argument.split(separator: delimiter, omittingEmptySubsequences: false)
        guard fields.count == 5, fields[0].isEmpty, fields[4].isEmpty, ["1", "2"].contains(fields[1]),
              let ip = IPAddress(String(fields[2])), ip.isIPv6 == (fields[1] == "2"), let port = UInt16(fields[3]) else { return nil }
        return SocketAddress(ip: ip, port: port)
    }

    static func eprtFamilyUnknown(_ argument: String) -> Bool {
        guard let delimiter = argument.first else { return false }
        let fields = argument.split(separator: delimiter, omittingEmptySubsequences: false)
        return fields.count == 5 && !["1", "2"].contains(fields[1])
    }

    /// The same host, counting an IPv4 peer seen as IPv4-mapped IPv6 (`::ffff:a.b.c.d`).
    static func sameHost(_ a: IPAddress, _ b: IPAddress) -> Bool {
        (ipv4(a) ?? a.bytes) == (ipv4(b) ?? b.bytes)
    }

    /// The four bytes of an IPv4 address, plain or IPv4-mapped; nil for real IPv6.
    static func ipv4(_ ip: IPAddress) -> [UInt8]? {
        let bytes = ip.bytes
        if bytes.count == 4 { return bytes }
        return bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF ? Array(bytes[12...]) : nil
    }
}
