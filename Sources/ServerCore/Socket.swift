import Glibc

/// Creation of non-blocking listening sockets; everything here runs before serving starts.
enum Socket {
    enum Kind { case stream, datagram }

    /// Binds `address` (port 0 picks a free port) and returns the fd and the address bound.
    /// With `reusePort`, other sockets of this user that set it too may bind the same port,
    /// and the kernel spreads connections and datagrams over them (see `ListeningSocket.group`).
    /// A stream socket listens unless `listens` is false (a probe of whether the port is free).
    static func bind(_ kind: Kind, _ address: SocketAddress, backlog: Int32 = 1024, reusePort: Bool = false,
                     listens: Bool = true) throws(SocketError) -> (Int32, SocketAddress) {
        let type = (kind == .stream ? Int32(SOCK_STREAM.rawValue) : Int32(SOCK_DGRAM.rawValue)) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(address.family, type, 0)
        guard fd >= 0 else { throw SocketError(.socket, address: address, errno: errno) }
        do throws(SocketError) {
            // For streams, binding past connections in TIME_WAIT. (For datagrams it would let
            // any other socket that sets it share the port unseen.)
            if kind == .stream { try setOption(fd, SOL_SOCKET, SO_REUSEADDR, address) }
            if reusePort { try setOption(fd, SOL_SOCKET, SO_REUSEPORT, address) }
            if address.ip.isIPv6 { try setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, address) }
            let rc = address.withSockaddr { Glibc.bind(fd, $0, $1) }
            guard rc == 0 else { throw SocketError(.bind, address: address, errno: errno) }
            if kind == .stream, listens, listen(fd, backlog) != 0 { throw SocketError(.listen, address: address, errno: errno) }
            return (fd, try localAddress(fd, fallback: address))
        } catch {
            close(fd)
            throw error
        }
    }

    static func localAddress(_ fd: Int32, fallback: SocketAddress) throws(SocketError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0, let bound = SocketAddress(storage: storage) else {
            throw SocketError(.address, address: fallback, errno: errno)
        }
        return bound
    }

    private static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ address: SocketAddress) throws(SocketError) {
        var one: Int32 = 1
        guard setsockopt(fd, level, name, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw SocketError(.option, address: address, errno: errno)
        }
    }
}
