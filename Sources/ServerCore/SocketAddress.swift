import Glibc

/// An IPv4 or IPv6 address, stored without allocation (network byte order).
public enum IPAddress: Sendable, Hashable {
    case v4(in_addr_t)
    case v6(UInt64, UInt64)

    /// Parses a numeric address; IPv6 may be written in brackets (`[::1]`).
    public init?(_ text: String) {
        var s = Substring(text)
        if s.hasPrefix("["), s.hasSuffix("]") { s = s.dropFirst().dropLast() }
        var a4 = in_addr()
        if inet_pton(AF_INET, String(s), &a4) == 1 {
            self = .v4(a4.s_addr)
            return
        }
        var a6 = in6_addr()
        guard inet_pton(AF_INET6, String(s), &a6) == 1 else { return nil }
        self.init(a6)
    }

    init(_ a6: in6_addr) {
        let halves = withUnsafeBytes(of: a6) { raw in
            (raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
             raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        }
        self = .v6(halves.0, halves.1)
    }

    public var isIPv6: Bool {
        if case .v6 = self { return true }
        return false
    }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch self {
        case .v4(let raw):
            var a = in_addr(s_addr: raw)
            _ = inet_ntop(AF_INET, &a, &buffer, socklen_t(buffer.count))
        case .v6(let hi, let lo):
            var halves = (hi, lo)
            _ = inet_ntop(AF_INET6, &halves, &buffer, socklen_t(buffer.count))
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// An IP address and port: one end of a connection or a listener.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    public var ip: IPAddress
    public var port: UInt16

    public init(ip: IPAddress, port: UInt16) {
        self.ip = ip
        self.port = port
    }

    public var description: String {
        var text: [UInt8] = []
        append(to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// `1.2.3.4:53` or `[2001:db8::1]:53` as bytes, as every access line writes two.
    func append(to text: inout [UInt8]) { AddressText.append(self, to: &text) }

    /// Parses `1.2.3.4:53`, `[2001:db8::1]:53`, or an address alone with `defaultPort`.
    public init?(_ text: String, defaultPort: UInt16) {
        if let ip = IPAddress(text) {
            self.init(ip: ip, port: defaultPort)
            return
        }
        guard let colon = text.lastIndex(of: ":"), let port = StrictNumber.decimal(text[text.index(after: colon)...], as: UInt16.self) else { return nil }
        let host = String(text[..<colon])
        guard let ip = IPAddress(host), !ip.isIPv6 || host.hasPrefix("[") else { return nil }
        self.init(ip: ip, port: port)
    }

    init?(storage: sockaddr_storage) {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            let sin = withUnsafeBytes(of: &storage) { $0.loadUnaligned(as: sockaddr_in.self) }
            self.init(ip: .v4(sin.sin_addr.s_addr), port: UInt16(bigEndian: sin.sin_port))
        case AF_INET6:
            let sin6 = withUnsafeBytes(of: &storage) { $0.loadUnaligned(as: sockaddr_in6.self) }
            self.init(ip: IPAddress(sin6.sin6_addr), port: UInt16(bigEndian: sin6.sin6_port))
        default:
            return nil
        }
    }

    var family: Int32 { ip.isIPv6 ? AF_INET6 : AF_INET }

    /// The address as a sockaddr_storage, for the C batch calls; `scope` is an IPv6 interface.
    func storage(scope: UInt32 = 0) -> sockaddr_storage {
        var storage = sockaddr_storage()
        withSockaddr { address, length in
            withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(length))) }
        }
        if ip.isIPv6 {
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: scope, toByteOffset: 24, as: UInt32.self) }
        }
        return storage
    }

    var length: UInt32 { UInt32(ip.isIPv6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size) }

    /// 0.0.0.0 or ::, where the kernel does not say which address a datagram came to.
    var isWildcard: Bool {
        switch ip {
        case .v4(let raw): raw == 0
        case .v6(let hi, let lo): hi == 0 && lo == 0
        }
    }

    public func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        switch ip {
        case .v4(let raw):
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            sin.sin_addr = in_addr(s_addr: raw)
            return withUnsafePointer(to: &sin) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .v6(let hi, let lo):
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { raw in
                raw.storeBytes(of: hi, toByteOffset: 0, as: UInt64.self)
                raw.storeBytes(of: lo, toByteOffset: 8, as: UInt64.self)
            }
            return withUnsafePointer(to: &sin6) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
    }
}

/// A TCP connection's 4-tuple, which names it in logs and to its handler.
public struct ConnectionID: Sendable, Hashable, CustomStringConvertible {
    public let local: SocketAddress
    public let remote: SocketAddress

    public init(local: SocketAddress, remote: SocketAddress) {
        self.local = local
        self.remote = remote
    }

    /// `remote -> local`, the form access logs use.
    public var description: String {
        var text: [UInt8] = []
        text.reserveCapacity(48)
        remote.append(to: &text)
        text.append(contentsOf: " -> ".utf8)
        local.append(to: &text)
        return String(decoding: text, as: UTF8.self)
    }
}
