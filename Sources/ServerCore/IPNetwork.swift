/// An address prefix such as `10.0.0.0/8` or `fc00::/7`, for access lists.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    /// Parses `ADDR/LEN`, or a bare address as a single host.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let first = parts.first, let address = IPAddress(String(first)) else { return nil }
        let bits = address.isIPv6 ? 128 : 32
        if parts.count == 2 {
            guard let length = StrictNumber.count(parts[1], max: bits) else { return nil }
            prefixLength = length
        } else {
            prefixLength = bits
        }
        self.address = address
    }

    public func contains(_ candidate: IPAddress) -> Bool {
        let a = address.bytes, b = candidate.bytes
        guard a.count == b.count else { return false }
        var remaining = prefixLength
        for (x, y) in zip(a, b) where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            if x & mask != y & mask { return false }
            remaining -= 8
        }
        return true
    }

    public var description: String { "\(address.description)/\(prefixLength)" }

    /// Loopback and private ranges: who may use a resolver by default.
    public static let loopback: [IPNetwork] = ["127.0.0.0/8", "::1/128"].compactMap(IPNetwork.init)

    public static let localAndPrivate: [IPNetwork] = [
        "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7", "fe80::/10",
    ].compactMap(IPNetwork.init)
}

extension IPAddress {
    /// The address in network byte order: 4 or 16 bytes.
    public var bytes: [UInt8] {
        switch self {
        case .v4(let raw): withUnsafeBytes(of: raw) { Array($0) }
        case .v6(let hi, let lo): withUnsafeBytes(of: hi) { Array($0) } + withUnsafeBytes(of: lo) { Array($0) }
        }
    }
}
