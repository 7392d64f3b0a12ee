import CSystem
import Glibc
import ServerCore

/// sd_notify(3) without libsystemd: a datagram such as `READY=1` to the unix socket that
/// `NOTIFY_SOCKET` names (a path, or `@name` in the abstract namespace). systemd listens
/// there for a Type=notify service; the supervisor listens there for each of its children.
enum SystemdNotify {
    /// `NOTIFY_SOCKET` as this process was started with, taken out of the environment so
    /// that no process started from here answers in this one's name.
    static func take() -> String? {
        defer { unsetenv("NOTIFY_SOCKET") }
        return SocketActivation.environment("NOTIFY_SOCKET")
    }

    /// Sends `message`; false when `target` is no unix socket name or the send failed.
    @discardableResult
    static func send(_ message: String, to target: String) -> Bool {
        guard case (var address, let length)? = address(target) else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL), $0, length) }
        }
        return sent == bytes.count
    }

    /// A socket that hears notifications sent to `@name`, each with its sender's pid; nil
    /// with errno if it cannot be bound.
    static func listen(_ name: String) -> Int32? {
        guard case (var address, let length)? = address("@" + name) else { return nil }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, csystem_pass_credentials(fd) == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// The notification lines waiting on `fd` (`READY=1`, ...) from every datagram `sender`
    /// sent, and the pids of the other processes that sent some, ignored: an abstract socket's
    /// name is open to any local process, so only the kernel's word on the sender counts (as
    /// systemd checks a service's notifications against its main pid).
    static func receive(_ fd: Int32, from sender: pid_t) -> (lines: [Substring], strangers: [pid_t]) {
        var lines: [Substring] = [], strangers: [pid_t] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var from: pid_t = 0
            let n = buffer.withUnsafeMutableBytes { csystem_receive_from_process(fd, $0.baseAddress, $0.count, &from, nil) }
            guard n >= 0 else { return (lines, strangers) }
            guard from == sender else {
                strangers.append(from)
                continue
            }
            lines += String(decoding: buffer.prefix(n), as: UTF8.self).split(separator: "\n")
        }
    }

    /// `target` as a sockaddr_un: a leading `@` is the abstract namespace's NUL byte.
    private static func address(_ target: String) -> (sockaddr_un, socklen_t)? {
        var path = Array(target.utf8)
        var address = sockaddr_un()
        guard let first = path.first, first == UInt8(ascii: "/") || first == UInt8(ascii: "@"),
              path.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        if first == UInt8(ascii: "@") { path[0] = 0 }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        // A path is NUL-terminated (the rest of sun_path is zeros); an abstract name is not.
        let length = MemoryLayout<sa_family_t>.size + path.count + (first == UInt8(ascii: "/") ? 1 : 0)
        return (address, socklen_t(length))
    }
}
