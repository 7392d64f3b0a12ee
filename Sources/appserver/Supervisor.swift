import CSystem
import Glibc
import Logging
import ServerCore

/// The default run's parent, as nginx's master and Postfix's master: it holds every
/// listening socket and runs one child process per service on them, so that a crash in one
/// service is that child's end, not the others', and the port never refuses a connection.
/// One thread, one poll loop over the signal pipe and the children's notify sockets.
final class Supervisor {
    static let handledSignals = Startup.handledSignals + [SIGCHLD, SIGUSR2]
    /// A child that served this long before dying is no crash loop: the next starts at once.
    static let steadyRun = 1.0
    static let longestBackOff = 30
    /// How long children get to finish their connections at a stop (theirs is 5 s).
    static let stopGrace = 10.0
    /// Started as root, the supervisor becomes the run user as soon as the ports are bound,
    /// keeping only this, for the children it starts as that user: they read root-only files
    /// (the FTP users file, keys) with it, then drop it. Nothing else: children start as the
    /// run user, the data folders are already theirs, and the sockets are bound.
    static let childCapabilities: UInt64 = 1 << CSYSTEM_CAP_DAC_READ_SEARCH

    struct Child {
        let service: String
        let pid: pid_t
        let notify: Int32
        /// When it said READY=1.
        var ready: Double?
        /// The child of the previous generation it takes over from, stopped once this one is ready.
        var replaces: pid_t?
        /// Asked to stop: its exit is no crash.
        var stopping = false
        /// A notification from another process came to its socket (logged once).
        var heardStranger = false
    }

    struct Service {
        let sockets: [ListeningSocket]
        var current: pid_t?
        var quickDeaths = 0
        var restartAt: Double?
    }

    let logger: Logger
    let arguments: [String]
    let pidFile: String?
    /// `--log-file`, reopened here and in every child on SIGUSR1.
    let logFile: String?
    let cleanups: [(service: String, run: @Sendable () -> Void)]
    let order: [String]
    var services: [String: Service] = [:]
    var children: [pid_t: Child] = [:]
    /// Restarts run the binary this process runs; SIGUSR2 switches to the one on disk.
    var binary = "/proc/self/exe"
    let onDisk: String
    /// systemd's NOTIFY_SOCKET, until READY=1 has been sent there.
    var systemd: String?
    var stopDeadline: Double?
    /// Each service's "listening on" lines, said when its first child is ready: they mean
    /// the service serves, its files loaded, as in a single process.
    var unannounced: [String: [String]]
    var serial = 0
    /// What a child gets of `childCapabilities` (nothing when this process is not holding them).
    let ambient: UInt64

    init(sockets: [ListeningSocket], plan: ServicePlan, announcing lines: [Listening.Line], arguments: [String], pidFile: String?,
         systemd: String?, logger: Logger, logFile: String?) {
        self.logFile = logFile
        unannounced = Dictionary(grouping: lines, by: \.service).mapValues { $0.map(\.text) }
        order = SocketRow.processes.filter { service in sockets.contains { SocketRow.named($0.name)?.service == service } }
        for service in order {
            services[service] = Service(sockets: sockets.filter { SocketRow.named($0.name)?.service == service })
        }
        self.arguments = arguments
        self.pidFile = pidFile
        self.systemd = systemd
        self.logger = logger
        cleanups = plan.cleanups
        ambient = getuid() == 0 ? 0 : csystem_permitted_capabilities() & Supervisor.childCapabilities
        var path = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &path, Int(PATH_MAX))
        onDisk = length > 0 ? String(decoding: path.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
    }

    func run() -> Never {
        order.forEach { start($0) }
        while true {
            wait()
            reap()
            if let deadline = stopDeadline {
                if children.isEmpty { finish() }
                if Supervisor.now() >= deadline { killRemaining() }
                continue
            }
            let now = Supervisor.now()
            for service in order where services[service]?.restartAt.map({ $0 <= now }) == true {
                services[service]?.restartAt = nil
                cleanups.filter { $0.service == service }.forEach { $0.run() }
                start(service)
            }
        }
    }

    /// Starts a child for `service`; one that cannot be started is tried again in a second.
    func start(_ service: String, replacing old: pid_t? = nil) {
        guard let sockets = services[service]?.sockets else { return }
        serial += 1
        let name = "appserver-\(getpid())-\(serial)"
        guard let notify = SystemdNotify.listen(name) else { return retry(service, errno) }
        guard let pid = SupervisorSpawn.spawn(binary, arguments: arguments, sockets: sockets, notify: "@" + name, ambient: ambient) else {
            let error = errno
            close(notify)
            return retry(service, error)
        }
        children[pid] = Child(service: service, pid: pid, notify: notify, replaces: old)
        services[service]?.current = pid
        logger.notice("\(service) child \(pid) started")
    }

    private func retry(_ service: String, _ error: Int32) {
        logger.error("cannot start a \(service) child: \(errorText(error)); trying again in 1 s")
        services[service]?.restartAt = Supervisor.now() + 1
    }

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
