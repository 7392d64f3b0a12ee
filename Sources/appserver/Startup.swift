import CSystem
import DNSService
import Dispatch
import Glibc
import Logging
import ServerCore

/// The process-level steps of starting and stopping: limits, privileges, signals.
enum Startup {
    /// Turns a bind failure into advice a person can act on.
    static func explain(_ error: SocketError, flag: String) -> String {
        switch error.errno {
        case EACCES, EPERM:
            return "cannot bind \(error.address): permission denied. Ports below 1024 need root "
                + "(appserver drops privileges after binding), or pick another port with \(flag)"
        case EADDRINUSE:
            return "cannot bind \(error.address): the port is already in use; stop the other server or pick another port with \(flag)"
        case EADDRNOTAVAIL:
            return "cannot bind \(error.address): no such address on this machine (check --listen)"
        default:
            return error.description
        }
    }

    /// Lets the process keep as many connections as the hard limit allows.
    static func raiseDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    struct PrivilegeError: Error, CustomStringConvertible {
        let description: String
    }

    /// Once the ports are bound, a root process becomes `user`, so that a hole in a
    /// service does not hand out root; the folders it must write to are handed to that
    /// user first. Not root: nothing to do.
    /// A root process needs its run user before it binds anything.
    static func checkUser(_ user: String) throws(PrivilegeError) {
        guard getuid() == 0, getpwnam(user) == nil else { return }
        throw PrivilegeError(description: "no such user '\(user)' to run as (--user)")
    }

    /// The supervisor `keeping` capabilities keeps them permitted (not effective) as `user`,
    /// for the children it starts (see `Supervisor.childCapabilities`).
    static func dropPrivileges(to user: String, handing folders: [String], group: gid_t?, keeping capabilities: UInt64 = 0,
                               logger: Logger) throws(PrivilegeError) {
        guard getuid() == 0 else { return try dropCapabilities(logger: logger) }
        guard let entry = getpwnam(user) else {
            throw PrivilegeError(description: "no such user '\(user)' to run as (--user)")
        }
        let uid = entry.pointee.pw_uid, gid = entry.pointee.pw_gid
        if uid == 0 {
            logger.warning("running as root: --user \(user) is the superuser")
            return
        }
        do {
            try DataFolders.hand(folders, to: uid, group: group ?? gid, user: user)
        } catch {
            throw PrivilegeError(description: error.description)
        }
        let switched = capabilities == 0 ? setgroups(0, nil) == 0 && setgid(gid) == 0 && setuid(uid) == 0
            : csystem_become(uid, gid, capabilities) == 0
        guard switched, setuid(0) != 0 else {
            throw PrivilegeError(description: "cannot switch to user '\(user)': \(errorText(errno))")
        }
        logger.notice(capabilities == 0 ? "running as \(user)" : "supervisor running as \(user), keeping CAP_DAC_READ_SEARCH for its children")
    }

    /// A supervised child started as the run user holds what the supervisor kept for it
    /// until its files are read: dropped here. capset reaches only the calling thread, so
    /// every thread is checked, and a thread still holding any is a startup error.
    private static func dropCapabilities(logger: Logger) throws(PrivilegeError) {
        guard csystem_permitted_capabilities() != 0 else { return }
        guard csystem_drop_capabilities() == 0 else {
            throw PrivilegeError(description: "cannot drop capabilities: \(errorText(errno))")
        }
        let holding = (LocalFiles.names(in: "/proc/self/task") ?? []).filter { thread in
            let status = LocalFiles.read("/proc/self/task/\(thread)/status").map { String(decoding: $0, as: UTF8.self) } ?? ""
            return !status.split(separator: "\n").contains { $0.hasPrefix("CapPrm:") && $0.hasSuffix("0000000000000000") }
        }
        guard holding.isEmpty else {
            throw PrivilegeError(description: "thread(s) \(holding.joined(separator: ", ")) still hold capabilities after the drop")
        }
        logger.notice("running as \(DataFolders.userName(getuid()))")
    }

    /// A supervised child is named for its service in ps (not "exe", from /proc/self/exe),
    /// and stops (gracefully) when its supervisor ends, however it ends: asked for after
    /// the privilege drop, which clears the request.
    static func follow(_ supervisor: pid_t, serving services: [String]) {
        _ = csystem_name_process("appserver-" + services.joined(separator: ","))
        _ = csystem_die_with_parent(SIGTERM)
        if getppid() != supervisor { kill(getpid(), SIGTERM) }
    }

    static let handledSignals = [SIGINT, SIGTERM, SIGHUP, SIGUSR1]

    /// Where log lines go (`--log-file`, else standard output); set once, before any thread starts.
    nonisolated(unsafe) private(set) static var logOutput = LogOutput.standardOutput
    static func openLog(_ settings: Settings) throws(Settings.Invalid) -> LogOutput {
        if let path = settings.logFile {
            guard let output = LogOutput.open(path: path, format: settings.logFormat) else {
                throw Settings.Invalid(description: "cannot open the log file \(path): \(errorText(errno)) (--log-file)")
            }
            logOutput = output
            // Started as root, every process (the supervisor too) reopens it as the run user.
            if getuid() == 0, let entry = getpwnam(settings.user) { _ = chown(path, entry.pointee.pw_uid, entry.pointee.pw_gid) }
        } else if settings.logFormat != .text {
            logOutput = LogOutput(fd: STDOUT_FILENO, format: settings.logFormat)
        }
        return logOutput
    }

    /// SIGUSR1, as logrotate sends it: the log file is opened again under its name, by the
    /// run user: a folder that user may not write needs the new file made for it.
    static func reopenLog(_ path: String?, logger: Logger) {
        guard let path else { return }
        guard logOutput.reopen(path: path) else {
            let error = errno
            let hint = error == EACCES ? " (\(DataFolders.userName(getuid())) may not create it there: logrotate's `create` makes it)" : ""
            return logger.error("cannot reopen the log file \(path): \(errorText(error))\(hint); writing to the old one")
        }
    }

    /// The handled signals, as they arrive (see `catchSignals`).
    nonisolated(unsafe) private(set) static var signalPipe: Int32 = -1

    /// Catches the signals the server handles from the first moment of `serve`, before any
    /// thread starts: a handler writes each one to a pipe that `handleSignals` reads, so a
    /// signal sent at any time is acted on once serving starts, never ignored or fatal.
    /// (A libdispatch signal source registers itself later, on its own thread: a signal
    /// sent in between was lost, seen as a server that ignored a SIGTERM under load.)
    static func catchSignals(_ signals: [Int32] = handledSignals) {
        signalPipe = signals.withUnsafeBufferPointer { csystem_signal_pipe($0.baseAddress, Int32($0.count)) }
        if signalPipe < 0 { fail("cannot install signal handlers: \(errorText(errno))") }
    }

    /// SIGINT and SIGTERM: stop accepting, give open connections a few seconds, exit 0.
    /// SIGUSR1: open the log file again (logrotate has renamed it).
    /// SIGHUP: reload what can be reloaded (zones, FTP users) on the reload queue; what
    /// fails to load keeps its previous version and the error is logged.
    static func handleSignals(registry: ListenerRegistry, logger: Logger, pidFile: String?,
                              reloads: [(name: String, reload: @Sendable () -> [String])], logFile: String?) {
        let reloading = DispatchQueue(label: "appserver.reload")
        let fd = signalPipe
        DispatchQueue(label: "appserver.signals").async {
            var stopping = false
            while true {
                var byte: UInt8 = 0
                let n = read(fd, &byte, 1)
                if n < 0 && errno == EINTR { continue }
                guard n == 1 else { return }
                if Int32(byte) == SIGUSR1 {
                    reopenLog(logFile, logger: logger)
                    continue
                }
                if Int32(byte) == SIGHUP {
                    reloading.async { reload(reloads, logger: logger) }
                    continue
                }
                guard !stopping else { continue }
                stopping = true
                logger.notice("shutting down: finishing \(registry.connectionCount) open connection(s)")
                registry.shutdown(grace: 5) {
                    if let pidFile { unlink(pidFile) }
                    logOutput.flush()
                    exit(0)
                }
            }
        }
    }

    private static func reload(_ reloads: [(name: String, reload: @Sendable () -> [String])], logger: Logger) {
        for (name, reload) in reloads {
            let problems = reload()
            problems.forEach { logger.error("reload: \($0)") }
            logger.notice("reloaded \(name)\(problems.isEmpty ? "" : " (\(problems.count) with errors)")")
        }
    }

    /// `--pid-file`: the process id, for `kill -HUP $(cat FILE)`; an existing file whose
    /// process still runs is another server's, and refused. Written before privileges are
    /// dropped (as nginx's master does); removed at exit where the run user may, and a file
    /// left behind names a process that is gone, so the next start takes it over.
    static func writePidFile(_ path: String) throws(Settings.Invalid) {
        if let old = LocalFiles.read(path), let pid = StrictNumber.decimal(old.filter { $0 != 0x0A }, as: UInt32.self),
           pid > 0, pid <= UInt32(Int32.max), kill(pid_t(pid), 0) == 0, pid_t(pid) != getpid() {
            throw Settings.Invalid(description: "\(path) names process \(pid), which is running: another appserver? (--pid-file)")
        }
        guard LocalFiles.write(Array("\(getpid())\n".utf8), to: path) else {
            throw Settings.Invalid(description: "cannot write \(path): \(errorText(errno)) (--pid-file)")
        }
    }

    /// The name this host gives itself, for greetings and trace headers.
    static var hostname: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }

}
