import Glibc

/// systemd's socket activation protocol (sd_listen_fds(3)), as systemd, systemd-socket-activate
/// and appserver's own supervisor hand listening sockets to a process: descriptors from 3 on,
/// `LISTEN_FDS` of them, `LISTEN_PID` the receiving process (so that a grandchild that
/// inherits the environment does not take them for its own), `LISTEN_FDNAMES` their names,
/// colon-separated.
public enum SocketActivation {
    public static let firstDescriptor: Int32 = 3

    /// The descriptors and names the variables give this process; none when `LISTEN_PID` is
    /// absent or another process's. Names missing from `LISTEN_FDNAMES` are "unknown", as
    /// sd_listen_fds_with_names(3) says.
    public static func descriptors(pid: String?, count: String?, names: String?, ownPid: Int32) throws(ActivationError) -> [(fd: Int32, name: String)] {
        guard let pid, let count else { return [] }
        guard let listener = StrictNumber.decimal(pid, as: UInt32.self, max: UInt32(Int32.max)) else {
            throw ActivationError("LISTEN_PID: expected a process id, got '\(pid)'")
        }
        guard Int32(listener) == ownPid else { return [] }
        // A socket per worker of every port (up to 256 workers) fits.
        guard let n = StrictNumber.decimal(count, as: UInt32.self, max: 65_536).map({ Int32($0) }) else {
            throw ActivationError("LISTEN_FDS: expected a number of descriptors from 0 to 65536, got '\(count)'")
        }
        let given = names.map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) } ?? []
        if names != nil && given.count != Int(n) {
            throw ActivationError("LISTEN_FDNAMES names \(given.count) descriptor(s), LISTEN_FDS says \(n)")
        }
        return (0..<n).map { (firstDescriptor + $0, given.isEmpty ? "unknown" : given[Int($0)]) }
    }

    /// The sockets handed to this process, checked; the variables are removed, so that
    /// nothing this process starts sees them.
    public static func inherited() throws(ActivationError) -> [ListeningSocket] {
        let found = try descriptors(pid: environment("LISTEN_PID"), count: environment("LISTEN_FDS"),
                                    names: environment("LISTEN_FDNAMES"), ownPid: getpid())
        for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] { unsetenv(name) }
        var sockets: [ListeningSocket] = []
        for (fd, name) in found { sockets.append(try ListeningSocket.adopt(fd: fd, name: name)) }
        return sockets
    }

    public static func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
}
