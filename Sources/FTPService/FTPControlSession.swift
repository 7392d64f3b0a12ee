import Dispatch
import ServerCore

/// One FTP control connection as `SessionDriver` runs it: command lines are taken one at a
/// time; file access, the password check and its failure delay, and each transfer are held
/// work, and the lines behind them wait, so replies stay in order. ABOR alone is acted on
/// out of turn, during a transfer, as the lines arrive.
///
/// Sans-I/O but for the data link it is given (a passive listener is opened at once: bind
/// and listen do not block): file access runs off the queue through `FileRequest`, the
/// clock that dates listings is `FTPConfiguration.clock`, and delays are timers.
///
/// Bounds, per answer rather than per read (the driver's): a line is taken only while the
/// connection's output is under `outputIsFull` (1 MiB), so a client that pipelines commands
/// and never reads its replies costs at most 1 MiB plus one answer of output (the longest,
/// STAT of a folder, is one line per entry), and at most `inputLimit` plus one read of
/// unanswered input before reading pauses.
struct FTPControlSession: ConnectionSession {
    enum Completion: Sendable {
        case files(FileAnswer)
        /// The password check; `delay`: how long before a failure is said.
        case passwordChecked(user: String, success: Bool, delay: Double)
        case loginAnswered(user: String, success: Bool)
        case transferEnded(DataChannel.Outcome, bytes: Int64?)
    }

    static let inputLimit = 64 * 1024

    private let config: FTPConfiguration
    private let links: any DataLinks
    private let id: ConnectionID
    private var input = FTPCommandInput()
    private var commands: FTPSession
    private var link: (any DataLink)?
    /// The line whose file request is out, for its log line.
    private var answering: [UInt8]?
    /// The transfer under way, its command as logged.
    private var transfer: String?
    /// ABOR arrived during the transfer: its own reply follows the transfer's.
    private var abort: FTPReply?
    /// Offloads and holding waits out (the driver takes no step meanwhile).
    private var held = 0
    private var draining = false
    /// Goodbye said: no further line is taken.
    private var closing = false
    /// This connection's own TLS sessions: its data connections resume them, and no other's.
    private let scope = TLSSessionScope()
    /// The control connection's TLS context, once it has one (the data connections' follows it).
    private var tls: TLSServerContext?
    private let implicitTLS: Bool

    init(_ config: FTPConfiguration, id: ConnectionID, links: any DataLinks, implicitTLS: Bool = false) {
        self.config = config
        self.links = links
        self.id = id
        self.implicitTLS = implicitTLS && config.tls != nil
        commands = FTPSession(anonymousAllowed: config.anonymous, peer: id.remote.ip,
                              tls: config.tls == nil ? .off : config.tlsPolicy, implicitTLS: self.implicitTLS)
    }

    var bufferedBytes: Int { input.bufferedBytes }

    /// Implicit FTPS: TLS before the greeting (nothing is queued, so the session starts at
    /// once, and the greeting goes encrypted).
    mutating func start() -> Actions {
        guard implicitTLS, let context = startTLS() else { return [.idleTimeout(config.idleTimeout), .write(FTPReply.greeting.bytes)] }
        return [.idleTimeout(config.idleTimeout), .startTLS(context), .write(FTPReply.greeting.bytes)]
    }

    mutating func receive(_ bytes: UnsafeRawBufferPointer) {
        input.receive(bytes)
        // ABOR during a transfer ends it now; its replies come when the transfer's end is heard.
        if transfer != nil, abort == nil, input.takeAbort() {
            abort = link?.abort() == true ? .abortOK : .noTransfer
        }
    }

    mutating func step() -> Actions? {
        guard !closing, let line = input.next() else { return nil }
        var out: Actions = [.idleTimeout(config.idleTimeout)]
        guard case .line(let bytes) = line else {
            // Its bytes were not kept: `-` stands for the command.
            logInfo("\(loggedUser) \"-\" \(FTPReply.lineTooLong.code)")
            return out + [.write(FTPReply.lineTooLong.bytes)]
        }
        out += perform(commands.handle(bytes), answering: bytes)
        return out
    }

    mutating func complete(_ completion: Completion) -> Actions {
        held -= 1
        var out: Actions
        switch completion {
        case .files(let answer):
            let line = answering
            answering = nil
            out = perform(commands.finished(answer), answering: line)
        case .passwordChecked(let user, let success, let delay):
            guard delay > 0 else { return answerLogin(user: user, success: success) + goodbyeIfDrained() }
            held += 1
            // The failed-login delay is a timer, not a thread asleep; input waits meanwhile.
            return [.wait(holdsInput: true) { done in
                DispatchQueue.global().asyncAfter(deadline: .now() + delay) { done(.loginAnswered(user: user, success: success)) }
            }]
        case .loginAnswered(let user, let success):
            out = answerLogin(user: user, success: success)
        case .transferEnded(let outcome, let bytes):
            out = transferEnded(outcome, bytes: bytes)
        }
        return out + goodbyeIfDrained()
    }

    mutating func drain() -> Actions {
        draining = true
        return goodbyeIfDrained()
    }

    mutating func closed(_ reason: CloseReason) -> Actions {
        link?.close()
        link = nil
        return []
    }

    // MARK: Actions

    /// The session's actions as the driver's; `line`: the command they answer, for its log line.
    private mutating func perform(_ actions: [FTPSession.Action], answering line: [UInt8]?) -> Actions {
        var out: Actions = []
        for (index, action) in actions.enumerated() {
            switch action {
            case .reply(let reply):
                if index == 0, let line { logCommand(line, reply) }
                out.append(.write(reply.bytes))
            case .close:
                closing = true
                out.append(.closeAfterFlush(lingering: true))
            case .files(let request):
                held += 1
                answering = line
                let fs = config.fs, clock = config.clock
                // A transfer's access line is timed from its command.
                out.append(.beginExchange)
                out.append(.offload({ .files(request.perform(on: fs, now: clock())) }, busy: FTPReply.busy.bytes))
            case .checkPassword(let user, let password):
                held += 1
                let users = config.users, throttle = config.throttle, ip = id.remote.ip
                out.append(.offload({
                    let success = users.verify(user: user, password: password)
                    if success { throttle.succeeded(ip) }
                    return .passwordChecked(user: user, success: success, delay: success ? 0 : throttle.failed(ip))
                }, busy: FTPReply.busy.bytes))
            case .enterPassive(let extended):
                link?.close()
                link = nil
                out.append(.write(enterPassive(extended: extended).bytes))
            case .setActive(let target):
                link?.close()
                link = links.active(to: target, local: id.local.ip, tls: dataTLS)
            case .transfer(let job, let what):
                out += startTransfer(job, what: what, command: line.map(FTPControlSession.loggable) ?? "-")
            case .abort:
                if let link, link.abort() { continue }
                link?.close()
                link = nil
                out.append(.write(FTPReply.noTransfer.bytes))
            case .startTLS:
                // Sent in plaintext behind AUTH TLS: never commands (CVE-2011-0411's kind).
                input = FTPCommandInput()
                link?.close()
                link = nil
                if let context = startTLS() { out.append(.startTLS(context)) } else { out.append(.close) }
            }
        }
        return out
    }

    private mutating func enterPassive(extended: Bool) -> FTPReply {
        let local = id.local.ip
        // PASV can only name an IPv4 address; IPv6 clients use EPSV. Behind NAT it names the
        // configured public address instead of ours (EPSV names no address at all).
        let v4 = DataAddress.ipv4(local).map { config.passiveAddress.flatMap(DataAddress.ipv4) ?? $0 }
        guard extended || v4 != nil else { return .useExtendedPassive }
        guard let (opened, port) = links.passive(local: local, peer: id.remote.ip, tls: dataTLS) else { return .cannotOpenData }
        link = opened
        if let v4, !extended { return .passive(v4, port: port) }
        return .extendedPassive(port: port)
    }

    private mutating func startTransfer(_ job: Transfer, what: String, command: String) -> Actions {
        guard let link else {
            if case .receive(let upload, _) = job { upload.abandon() }
            logInfo("\(loggedUser) \"\(command)\" \(FTPReply.needDataChannel.code)")
            return [.write(FTPReply.needDataChannel.bytes)]
        }
        held += 1
        transfer = command
        return [.write(FTPReply.opening(what).bytes), .wait(holdsInput: true) { done in
            link.run(job) { outcome, bytes in done(.transferEnded(outcome, bytes: bytes)) }
        }]
    }

    /// `bytes`: moved over the data connection, nil when a send broke off (how much of the
    /// queued data reached the peer is not known then).
    private mutating func transferEnded(_ outcome: DataChannel.Outcome, bytes: Int64?) -> Actions {
        let reply: FTPReply = switch outcome {
        case .complete: .transferComplete
        case .broken: .transferAborted
        case .noConnection: .cannotOpenData
        case .localError: .localError
        case .tlsFailed: config.tlsReuse ? .dataTLSNotResumed : .dataTLSFailed
        }
        config.metrics?.transferred(transfer ?? "-", by: loggedUser, client: id, code: reply.code, bytes: bytes)
        var out: Actions = [.write(reply.bytes), .log(.access, "\(loggedUser) \"\(transfer ?? "-")\" \(reply.code) \(bytes.map(String.init) ?? "-")")]
        // After ABOR: 426 for the transfer, then 226 for the ABOR itself (RFC 959 4.1.3).
        if let abort { out.append(.write(abort.bytes)) }
        abort = nil
        transfer = nil
        link?.close()
        link = nil
        return out
    }

    /// The control connection's TLS context, from the certificates loaded now.
    private mutating func startTLS() -> TLSServerContext? {
        tls = config.tls.map { $0.current.scoped(to: scope) }
        return tls
    }

    /// PROT P: data connections resume the control connection's sessions (when reuse is
    /// required) and end at close_notify, so that a cut upload is never taken as whole.
    private var dataTLS: TLSServerContext? {
        guard commands.protectsData, let tls else { return nil }
        return tls.scoped(to: scope, requiresResumption: config.tlsReuse, requiresCloseNotify: true)
    }

    private mutating func answerLogin(user: String, success: Bool) -> Actions {
        logInfo("login \(LogEscape.escaped(user)) \(success ? "ok" : "failed")")
        config.metrics?.login(succeeded: success)
        return perform(commands.passwordChecked(user: user, success: success), answering: nil)
    }

    /// A draining server says goodbye once nothing is held.
    private mutating func goodbyeIfDrained() -> Actions {
        guard draining, held == 0, !closing else { return [] }
        closing = true
        return [.write(FTPReply.shuttingDown.bytes), .closeAfterFlush(lingering: true)]
    }

    // MARK: Logging

    /// One line for each refused command (4xx or 5xx: a failed MKD, an anonymous USER, a
    /// STOR to a missing folder) and for each change to the files (DELE, MKD, RMD, RNFR,
    /// RNTO, SITE) whatever its outcome; the password check and transfers log their own.
    private func logCommand(_ line: [UInt8], _ reply: FTPReply) {
        let command = FTPCommand(line: line)
        if command == .pass && reply.code == 230 {
            config.metrics?.login(succeeded: true)
            return logInfo("login anonymous ok")
        }
        guard reply.code >= 400 || command?.rules.writes == true else { return }
        logInfo("\(loggedUser) \"\(FTPControlSession.loggable(line))\" \(reply.code)")
    }

    /// Info lines without a duration, written here rather than as `.log(.info, ...)`
    /// actions because some come from `receive` (a line too long), which returns none.
    private func logInfo(_ text: String) {
        config.logger.info("ftp \(id) \(text)")
    }

    private var loggedUser: String { commands.user.map { LogEscape.escaped($0) } ?? "-" }

    /// A command line as logged: escaped; PASS without its argument, the password.
    static func loggable(_ line: [UInt8]) -> String {
        FTPCommand(line: line) == .pass ? "PASS" : LogEscape.escaped(bytes: line)
    }
}
