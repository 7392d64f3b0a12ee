import Glibc

/// Port 0 for a service on several addresses: one free port, the same on each (and for TCP
/// and UDP alike), so `--port 0` gives one number to connect to, as a fixed port would.
public enum FreePort {
    /// A port free on every address; each try holds the sockets until all are bound, and
    /// tries again when another socket held the port on one of them.
    public static func common(on addresses: [IPAddress], datagrams: Bool, attempts: Int = 20) throws(SocketError) -> UInt16 {
        guard let first = addresses.first else { return 0 }
        var lastError: SocketError?
        for _ in 0..<attempts {
            var held: [Int32] = []
            defer { held.forEach { _ = close($0) } }
            do throws(SocketError) {
                let (fd, bound) = try Socket.bind(.stream, SocketAddress(ip: first, port: 0), backlog: 1)
                held.append(fd)
                for ip in addresses {
                    let address = SocketAddress(ip: ip, port: bound.port)
                    if ip != first { held.append(try Socket.bind(.stream, address, backlog: 1).0) }
                    if datagrams { held.append(try Socket.bind(.datagram, address).0) }
                }
                return bound.port
            } catch where error.errno == EADDRINUSE {
                lastError = error
            }
        }
        throw lastError ?? SocketError(.bind, address: SocketAddress(ip: first, port: 0), errno: EADDRINUSE)
    }

    /// Whether this host can open a socket of the address's family (IPv6 may be off).
    public static func familyAvailable(_ ip: IPAddress) -> Bool {
        do throws(SocketError) {
            let (fd, _) = try Socket.bind(.stream, SocketAddress(ip: ip, port: 0), backlog: 1)
            close(fd)
            return true
        } catch {
            return error.errno != EAFNOSUPPORT && error.errno != EADDRNOTAVAIL
        }
    }
}
