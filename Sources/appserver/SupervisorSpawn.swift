import CSystem
import Glibc
import ServerCore

/// How the supervisor starts a child: its own binary, run `--single-process` with the same
/// arguments, handed the service's sockets by socket activation (so that the child is the
/// same code systemd would start), and told where to say `READY=1`.
enum SupervisorSpawn {
    /// Set in a child's environment to the supervisor's pid: the child then leaves the pid
    /// file, the "listening on" lines and the crash clean-up to the supervisor.
    static let supervisorVariable = "APPSERVER_SUPERVISOR"
    /// Test-only (README): a supervised child of this service exits with status 3 as soon
    /// as it starts, to show the back-off.
    static let testExitVariable = "APPSERVER_TEST_CHILD_EXIT"

    /// Starts `binary` for `sockets`, holding the `ambient` capabilities; the pid, or nil with errno.
    static func spawn(_ binary: String, arguments: [String], sockets: [ListeningSocket], notify: String, ambient: UInt64) -> pid_t? {
        let replaced = ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "NOTIFY_SOCKET", supervisorVariable]
        var environment = inheritedEnvironment().filter { entry in !replaced.contains { entry.hasPrefix($0 + "=") } }
        environment += ["LISTEN_FDS=\(sockets.count)", "LISTEN_FDNAMES=" + sockets.map(\.name).joined(separator: ":"),
                        "NOTIFY_SOCKET=" + notify, "\(supervisorVariable)=\(getpid())"]
        let argv = ([CommandLine.arguments.first ?? "appserver"] + arguments + ["--single-process"]).map { strdup($0) }
        let envp = environment.map { strdup($0) }
        defer { (argv + envp).forEach { free($0) } }
        let fds = sockets.map(\.fd)
        let blocked = Startup.handledSignals
        let pid = binary.withCString { path in
            (argv + [nil]).withUnsafeBufferPointer { argvBuffer in
                (envp + [nil]).withUnsafeBufferPointer { envpBuffer in
                    csystem_spawn_listening(path, argvBuffer.baseAddress, envpBuffer.baseAddress, Int32(envp.count),
                                            fds, Int32(fds.count), blocked, Int32(blocked.count), ambient)
                }
            }
        }
        return pid > 0 ? pid : nil
    }

    /// The supervisor's pid, when this process is a child it started (and it still runs).
    static func supervisor() -> pid_t? {
        defer { unsetenv(supervisorVariable) }
        guard let text = SocketActivation.environment(supervisorVariable),
              let pid = StrictNumber.decimal(text, as: UInt32.self, max: UInt32(Int32.max)), pid_t(pid) == getppid() else { return nil }
        return pid_t(pid)
    }

    private static func inheritedEnvironment() -> [String] {
        var entries: [String] = []
        var cursor = environ
        while let entry = cursor.pointee {
            entries.append(String(cString: entry))
            cursor += 1
        }
        return entries
    }
}
