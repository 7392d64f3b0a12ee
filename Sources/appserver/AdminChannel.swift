import AdminService
import CSystem
import Dispatch
import Glibc
import ServerCore

/// How a supervised service child reaches the admin child: a datagram a second to the
/// abstract unix socket `@appserver-<supervisor pid>-admin`. The admin child takes only
/// what the kernel says comes from its own user and from a child of the same supervisor.
enum AdminChannel {
    static func name(supervisor: pid_t) -> String { "appserver-\(supervisor)-admin" }

    /// The admin child's end: each report that passes the checks goes to `hub`. Nil with
    /// errno when the name cannot be bound.
    static func listen(supervisor: pid_t, hub: AdminHub) -> (any DispatchSourceRead)? {
        guard let fd = SystemdNotify.listen(name(supervisor: supervisor)) else { return nil }
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: DispatchQueue(label: "appserver.admin.reports"))
        var buffer = [UInt8](repeating: 0, count: ReportCodec.maxSize)
        source.setEventHandler {
            while true {
                var pid: pid_t = 0, uid: uid_t = 0
                let n = buffer.withUnsafeMutableBytes { csystem_receive_from_process(fd, $0.baseAddress, $0.count, &pid, &uid) }
                guard n > 0 else { return }
                guard uid == getuid(), parent(of: pid) == supervisor, let report = ReportCodec.decode(Array(buffer.prefix(n))) else { continue }
                hub.update(report)
            }
        }
        source.setCancelHandler { close(fd) }
        source.activate()
        return source
    }

    /// A service child's end: sends `report` (best effort: a missed second is no loss).
    static func send(_ report: ServiceReport, supervisor: pid_t) {
        var address = sockaddr_un()
        let path = [0] + Array(name(supervisor: supervisor).utf8)
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = ReportCodec.encode(report)
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT), $0, length)
            }
        }
    }

    /// The parent process of `pid`, from /proc/PID/stat (its fourth field, after the name in parentheses).
    static func parent(of pid: pid_t) -> pid_t? {
        guard pid > 0, let stat = LocalFiles.read("/proc/\(pid)/stat") else { return nil }
        guard let close = stat.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = stat[(close + 1)...].split(separator: UInt8(ascii: " "))
        guard fields.count > 1, let ppid = StrictNumber.decimal(fields[1], as: UInt32.self, max: UInt32(Int32.max)) else { return nil }
        return pid_t(ppid)
    }
}
