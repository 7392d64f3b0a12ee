import Foundation

/// A unix datagram socket in the abstract namespace, as sd_notify(3) speaks to: to play
/// systemd's NOTIFY_SOCKET (`bound`), or to send to a name someone else listens on.
final class NotifySocket {
    let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    /// The name bound, for NOTIFY_SOCKET (`@` for the abstract namespace), or nil.
    private(set) var name: String?

    deinit { close(fd) }

    /// A socket listening on a fresh name.
    static func bound() throws -> NotifySocket {
        let socket = NotifySocket()
        let name = "appserver-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let bound = socket.withAddress(name) { bind(socket.fd, $0, $1) }
        guard socket.fd >= 0, bound == 0 else { throw POSIXError(.EADDRINUSE) }
        socket.name = "@" + name
        return socket
    }

    /// One datagram, within `timeout` seconds (nil if none came).
    func receive(timeout: Int) -> String? {
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = recv(fd, &buffer, buffer.count, timeout == 0 ? Int32(MSG_DONTWAIT) : 0)
        return n >= 0 ? String(decoding: buffer.prefix(n), as: UTF8.self) : nil
    }

    /// Sends `text` to the abstract name `name` (without its `@`); false if nobody listens there.
    @discardableResult
    func send(_ text: String, to name: String) -> Bool {
        let bytes = Array(text.utf8)
        return withAddress(name) { sendto(fd, bytes, bytes.count, Int32(MSG_DONTWAIT), $0, $1) } == bytes.count
    }

    private func withAddress<R>(_ name: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = [0] + Array(name.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sa_family_t>.size + path.count)) }
        }
    }
}
