import Glibc

/// A listening socket held as a plain descriptor with a name, not yet served: bound here
/// (by a supervisor that hands it to its children) or handed to this process at start
/// (systemd's socket activation, sd_listen_fds(3)). `ListenerRegistry.adopt` serves one.
public struct ListeningSocket: Sendable {
    /// The name it is known by in `LISTEN_FDNAMES` (systemd's `FileDescriptorName=`).
    public let name: String
    public let fd: Int32
    public let datagrams: Bool
    public let address: SocketAddress

    /// Binds `address` `count` times, a socket for each worker of the process that serves
    /// it (port 0 picks a free port, the same for all). Beyond one they share the port by
    /// SO_REUSEPORT, and the kernel spreads connections and datagrams over them. A plain
    /// socket binds first and is closed: SO_REUSEPORT alone would let these join the sockets
    /// of another process of the same user on the port (another appserver), unseen, and take
    /// half its traffic; the plain one fails there with EADDRINUSE, as a single socket would.
    public static func group(name: String, datagrams: Bool, address: SocketAddress, count: Int) throws(SocketError) -> [ListeningSocket] {
        let kind: Socket.Kind = datagrams ? .datagram : .stream
        guard count > 1 else {
            let (fd, bound) = try Socket.bind(kind, address)
            return [ListeningSocket(name: name, fd: fd, datagrams: datagrams, address: bound)]
        }
        let (probe, free) = try Socket.bind(kind, address, listens: false)
        _ = Glibc.close(probe)
        var sockets: [ListeningSocket] = []
        do throws(SocketError) {
            for _ in 0..<count {
                let (fd, bound) = try Socket.bind(kind, free, reusePort: true)
                sockets.append(ListeningSocket(name: name, fd: fd, datagrams: datagrams, address: bound))
            }
            return sockets
        } catch {
            sockets.forEach { $0.close() }
            throw error
        }
    }

    /// Takes over descriptor `fd`, checked to be an IPv4 or IPv6 socket that is bound and,
    /// for a stream socket, listening; made non-blocking and close-on-exec, as ours are.
    public static func adopt(fd: Int32, name: String) throws(ActivationError) -> ListeningSocket {
        func option(_ name: Int32) -> Int32? {
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            return getsockopt(fd, SOL_SOCKET, name, &value, &length) == 0 ? value : nil
        }
        guard let type = option(SO_TYPE) else { throw ActivationError("descriptor \(fd) (\(name)) is not a socket: \(errorText(errno))") }
        let datagrams = type == Int32(SOCK_DGRAM.rawValue)
        guard datagrams || type == Int32(SOCK_STREAM.rawValue) else {
            throw ActivationError("descriptor \(fd) (\(name)) is neither a stream nor a datagram socket")
        }
        guard datagrams || option(SO_ACCEPTCONN) == 1 else {
            throw ActivationError("descriptor \(fd) (\(name)) is a stream socket that is not listening")
        }
        let placeholder = SocketAddress(ip: .v4(0), port: 0)
        guard let address = try? Socket.localAddress(fd, fallback: placeholder), address.port != 0 else {
            throw ActivationError("descriptor \(fd) (\(name)) is not an IPv4 or IPv6 socket bound to a port")
        }
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0, fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 else {
            throw ActivationError("descriptor \(fd) (\(name)): \(errorText(errno))")
        }
        return ListeningSocket(name: name, fd: fd, datagrams: datagrams, address: address)
    }

    /// The same socket known by another name.
    public func named(_ name: String) -> ListeningSocket {
        ListeningSocket(name: name, fd: fd, datagrams: datagrams, address: address)
    }

    /// Closes a socket that will not be served here.
    public func close() { _ = Glibc.close(fd) }
}

/// Sockets handed over at start that cannot be used: one line saying which and why.
public struct ActivationError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
