import Glibc
import Logging
import ServerCore

/// What the supervisor does about a signal, a child's `READY=1` and a child's end.
extension Supervisor {
    /// Sleeps until a signal, a notification or the next restart or stop deadline.
    func wait() {
        let watched = Array(children.values)
        var fds = [pollfd(fd: Startup.signalPipe, events: Int16(POLLIN), revents: 0)]
            + watched.map { pollfd(fd: $0.notify, events: Int16(POLLIN), revents: 0) }
        let deadlines = [stopDeadline].compactMap { $0 } + services.values.compactMap(\.restartAt)
        let timeout = deadlines.min().map { Int32(max(0, min(60_000, ($0 - Supervisor.now()) * 1000 + 1))) } ?? -1
        guard poll(&fds, nfds_t(fds.count), timeout) > 0 else { return }
        if fds[0].revents != 0 {
            var bytes = [UInt8](repeating: 0, count: 64)
            let n = read(Startup.signalPipe, &bytes, bytes.count)
            bytes.prefix(max(0, n)).forEach { handle(signal: Int32($0)) }
        }
        for (child, polled) in zip(watched, fds.dropFirst()) where polled.revents != 0 {
            let (lines, strangers) = SystemdNotify.receive(child.notify, from: child.pid)
            if let stranger = strangers.first, children[child.pid]?.heardStranger == false {
                children[child.pid]?.heardStranger = true
                logger.warning("ignoring notifications from process \(stranger) to the \(child.service) child's socket: only child \(child.pid) may send there")
            }
            if lines.contains("READY=1") { ready(child.pid) }
        }
    }

    private func handle(signal number: Int32) {
        switch number {
        case SIGTERM, SIGINT:
            guard stopDeadline == nil else { return }
            logger.notice("shutting down: stopping \(children.count) child process(es)")
            stopDeadline = Supervisor.now() + Supervisor.stopGrace
            for pid in Array(children.keys) { stop(pid) }
        case SIGUSR1:
            Startup.reopenLog(logFile, logger: logger)
            for child in children.values { kill(child.pid, SIGUSR1) }
        case SIGHUP where stopDeadline == nil:
            logger.notice("reload: passing SIGHUP to the children")
            for child in children.values where !child.stopping { kill(child.pid, SIGHUP) }
        case SIGUSR2 where stopDeadline == nil:
            upgrade()
        default:
            break
        }
    }

    /// A new generation from the binary on disk, each child taking over from the old one of
    /// its service once ready; the old ones drain and exit. Nothing is closed meanwhile.
    private func upgrade() {
        guard !children.values.contains(where: { $0.replaces != nil }) else {
            return logger.warning("upgrade: the previous one is still under way; SIGUSR2 ignored")
        }
        binary = onDisk
        logger.notice("upgrade: starting new children from \(onDisk)")
        for service in order {
            if let old = services[service]?.current { start(service, replacing: old) }
        }
    }

    private func ready(_ pid: pid_t) {
        guard var child = children[pid], child.ready == nil else { return }
        child.ready = Supervisor.now()
        unannounced.removeValue(forKey: child.service)?.forEach { logger.notice("\($0)") }
        if let old = child.replaces {
            child.replaces = nil
            logger.notice("\(child.service) child \(pid) is ready; stopping child \(old)")
            stop(old)
        }
        children[pid] = child
        let serving = services.values.allSatisfy { $0.current.flatMap { children[$0]?.ready } != nil }
        if serving, let target = systemd {
            SystemdNotify.send("READY=1", to: target)
            systemd = nil
        }
    }

    private func stop(_ pid: pid_t) {
        children[pid]?.stopping = true
        kill(pid, SIGTERM)
    }

    func reap() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            guard pid > 0 else { return }
            guard let child = children.removeValue(forKey: pid) else { continue }
            close(child.notify)
            ended(child, status: status)
        }
    }

    private func ended(_ child: Child, status: Int32) {
        let how = Supervisor.describe(status)
        if child.stopping || stopDeadline != nil {
            return status == 0 ? logger.notice("\(child.service) child \(child.pid) stopped")
                : logger.warning("\(child.service) child \(child.pid) \(how) while stopping")
        }
        guard var service = services[child.service] else { return }
        if service.current != child.pid {
            return logger.warning("\(child.service) child \(child.pid) (previous generation) \(how)")
        }
        if let old = child.replaces, children[old].map({ !$0.stopping }) == true {
            services[child.service]?.current = old
            return logger.error("upgrade: the new \(child.service) child \(child.pid) \(how) before it was ready; child \(old) goes on")
        }
        if let ready = child.ready, Supervisor.now() - ready >= Supervisor.steadyRun { service.quickDeaths = 0 }
        let delay = service.quickDeaths == 0 ? 0 : min(Supervisor.longestBackOff, 1 << min(service.quickDeaths - 1, 5))
        service.quickDeaths += 1
        service.current = nil
        service.restartAt = Supervisor.now() + Double(delay)
        services[child.service] = service
        logger.error("\(child.service) child \(child.pid) \(how); restarting it \(delay == 0 ? "now" : "in \(delay) s")")
    }

    /// "exited with status 3", "was killed by signal 9 (Killed)".
    static func describe(_ status: Int32) -> String {
        let signal = status & 0x7F
        guard signal != 0 else { return "exited with status \((status >> 8) & 0xFF)" }
        let name = strsignal(signal).map { String(cString: $0) } ?? "unknown"
        return "was killed by signal \(signal) (\(name))\(status & 0x80 != 0 ? ", core dumped" : "")"
    }

    func killRemaining() {
        logger.warning("\(children.count) child process(es) still running after \(Int(Supervisor.stopGrace)) s: killing them")
        children.keys.forEach { kill($0, SIGKILL) }
        stopDeadline = Supervisor.now() + Supervisor.stopGrace
    }

    func finish() -> Never {
        if let pidFile { unlink(pidFile) }
        Startup.logOutput.flush()
        exit(0)
    }
}
