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
    static func dropPrivileges(to user: String, handing folders: [String], logger: Logger) throws(PrivilegeError) {
        guard getuid() == 0 else { return }
        guard let entry = getpwnam(user) else {
            throw PrivilegeError(description: "no such user '\(user)' to run as (--user)")
        }
        let uid = entry.pointee.pw_uid, gid = entry.pointee.pw_gid
        if uid == 0 {
            logger.warning("running as root: --user \(user) is the superuser")
            return
        }
        for folder in folders where chown(folder, uid, gid) != 0 {
            throw PrivilegeError(description: "cannot hand \(folder) to user '\(user)': \(errorText(errno))")
        }
        guard setgroups(0, nil) == 0, setgid(gid) == 0, setuid(uid) == 0, setuid(0) != 0 else {
            throw PrivilegeError(description: "cannot switch to user '\(user)': \(errorText(errno))")
        }
        logger.notice("running as \(user)")
    }

    /// SIGINT and SIGTERM: stop accepting, give open connections a few seconds, exit 0.
    static func handleSignals(registry: ListenerRegistry, logger: Logger) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .main)
            source.setEventHandler {
                logger.notice("shutting down: finishing \(registry.connectionCount) open connection(s)")
                registry.shutdown(grace: 5) {
                    LogOutput.standardOutput.flush()
                    exit(0)
                }
            }
            source.activate()
            sources.append(source)
        }
    }

    /// What SIGHUP reloads, filled in while the services are set up.
    final class Reloads: @unchecked Sendable {
        /// Written on the main thread before `dispatchMain`, read only on `queue` after it.
        private var entries: [(name: String, reload: @Sendable () -> [String])] = []
        let queue = DispatchQueue(label: "appserver.reload")

        func add(_ name: String, _ reload: @escaping @Sendable () -> [String]) { entries.append((name, reload)) }

        func run(logger: Logger) {
            for (name, reload) in entries {
                let problems = reload()
                problems.forEach { logger.error("reload: \($0)") }
                logger.notice("reloaded \(name)\(problems.isEmpty ? "" : " (\(problems.count) with errors)")")
            }
        }
    }

    /// SIGHUP: reload what can be reloaded (zones, FTP users); what fails to load keeps its
    /// previous version and the error is logged. The source delivers on the main queue,
    /// which runs only once setup is done; the reload itself runs on its own queue.
    static func reloadOnHangup(logger: Logger) -> Reloads {
        let reloads = Reloads()
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .main)
        source.setEventHandler { reloads.queue.async { reloads.run(logger: logger) } }
        source.activate()
        sources.append(source)
        return reloads
    }

    /// The name this host gives itself, for greetings and trace headers.
    static var hostname: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }

    /// Signal sources live as long as the process.
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []
}
