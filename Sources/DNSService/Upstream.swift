import ServerCore

/// A server the forwarder asks: over UDP (TCP when a reply is truncated), or over TLS
/// (RFC 7858, port 853 by default) to a server whose certificate must carry `tlsName`.
public struct Upstream: Sendable, Equatable, CustomStringConvertible {
    public let address: SocketAddress
    /// The name (or IP address) the upstream's certificate must carry; nil: plain DNS.
    public let tlsName: String?

    public init(_ address: SocketAddress, tlsName: String? = nil) {
        self.address = address
        self.tlsName = tlsName
    }

    /// `IP[:PORT]` (port 53), or `tls://IP[:PORT][#NAME]` (port 853; without a name the
    /// certificate must carry the address itself, as Unbound's `IP@853#NAME` reads).
    public init?(_ text: String) {
        guard text.hasPrefix("tls://") else {
            guard let address = SocketAddress(text, defaultPort: 53) else { return nil }
            self.init(address)
            return
        }
        let rest = text.dropFirst("tls://".count)
        let parts = rest.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        guard let host = parts.first, let address = SocketAddress(String(host), defaultPort: 853) else { return nil }
        let name = parts.count == 2 ? String(parts[1]) : address.ip.description
        guard Upstream.isCertificateName(name) else { return nil }
        self.init(address, tlsName: name)
    }

    public var description: String {
        guard let tlsName else { return address.description }
        return "tls://\(address)#\(tlsName)"
    }

    /// A host name of letters, digits, hyphens and dots (at most 253 octets, labels of 1 to
    /// 63), or an IP address: what a certificate can name and SNI can carry.
    static func isCertificateName(_ name: String) -> Bool {
        if IPAddress(name) != nil { return true }
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        let labels = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            (1...63).contains(label.count) && label.first != UInt8(ascii: "-") && label.last != UInt8(ascii: "-")
                && label.allSatisfy { $0 == UInt8(ascii: "-") || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
        }
    }
}
