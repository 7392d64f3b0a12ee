import Dispatch
import Glibc
import ServerCore

/// Wires one control connection to the session: command lines are taken one at a time;
/// while a password is checked or a transfer runs, further lines wait (but ABOR, which is
/// acted on at once), so replies stay in order.
///
/// Bounds, per answer rather than per read: a line is taken only while the connection's
/// output is under `Connection.outputIsFull` (1 MiB), checked after each answer, so a client
/// that pipelines commands and never reads its replies costs at most 1 MiB plus one answer
/// of output (the longest, STAT of a folder, is one line per entry), and at most 64 KiB plus
/// one read of unanswered input before reading pauses.
///
final class FTPHandler: ConnectionHandler, @unchecked Sendable {
    private let config: FTPConfiguration
    private var session: FTPSession?
    private var input = FTPCommandInput()
    private var channel: DataChannel?
    private var busy = false
    /// The transfer under way: its command as logged, and when it began.
    private var transfer: (command: String, started: UInt64)?
    private var draining = false
    /// ABOR arrived during the transfer: its own 226 follows the transfer's 426.
    private var aborting = false
    static let inputLimit = 64 * 1024

    init(_ config: FTPConfiguration) {
        self.config = config
    }

    func connectionOpened(_ connection: any ConnectionContext) {
        session = FTPSession(fs: config.fs, anonymousAllowed: config.anonymous, peer: connection.id.remote.ip)
        connection.setIdleTimeout(config.idleTimeout)
        connection.write(FTPReply.greeting.bytes)
    }

    func connection(_ connection: any ConnectionContext, received bytes: UnsafeRawBufferPointer) {
        connection.setIdleTimeout(config.idleTimeout)
        input.receive(bytes)
        drive(connection)
    }

    func connectionWritable(_ connection: any ConnectionContext) { drive(connection) }

    func connectionShouldDrain(_ connection: any ConnectionContext) {
        draining = true
        if !busy { sayGoodbye(connection) }
    }

    func connectionClosed(_ connection: any ConnectionContext, reason: CloseReason) {
        channel?.close()
        channel = nil
    }

    /// Acts on waiting lines until one has to wait: for a password check, a transfer, more
    /// input, or the peer to read what it has been sent.
    private func drive(_ connection: any ConnectionContext) {
        if busy, transfer != nil, input.takeAbort() {
            aborting = channel?.abort() == true
            if !aborting { connection.write(FTPReply.noTransfer.bytes) }
        }
        while !busy, connection.isOpen, session != nil {
            if connection.outputIsFull {
                connection.notifyWhenWritable()
                break
            }
            guard let line = input.next() else { break }
            guard case .line(let bytes) = line else {
                // Its bytes were not kept: `-` stands for the command.
                config.logger.info("ftp \(connection.logName) \(loggedUser) \"-\" \(FTPReply.lineTooLong.code)")
                connection.write(FTPReply.lineTooLong.bytes)
                continue
            }
            let verb = FTPCommandLine(bytes).verb
            let actions = session?.handle(bytes) ?? []
            logCommand(bytes, verb: verb, actions, on: connection)
            for action in actions { perform(action, command: FTPHandler.loggable(bytes, verb: verb), on: connection) }
        }
        if input.bufferedBytes > FTPHandler.inputLimit { connection.pauseReading() } else { connection.resumeReading() }
    }

    /// One line for each refused command (4xx or 5xx: a failed MKD, an anonymous USER, a
    /// STOR to a missing folder) and for each change to the files (DELE, MKD, RMD, RNFR,
    /// RNTO, SITE) whatever its outcome; the password check and transfers log their own.
    private func logCommand(_ line: [UInt8], verb: String, _ actions: [FTPSession.Action], on connection: any ConnectionContext) {
        guard case .reply(let reply) = actions.first else { return }
        let changesFiles = FTPVerb.table[verb]?.writes == true
        if verb == "PASS" && reply.code == 230 {
            return config.logger.info("ftp \(connection.logName) login anonymous ok")
        }
        guard reply.code >= 400 || changesFiles else { return }
        config.logger.info("ftp \(connection.logName) \(loggedUser) \"\(FTPHandler.loggable(line, verb: verb))\" \(reply.code)")
    }

    private var loggedUser: String { session?.user.map { LogEscape.escaped($0) } ?? "-" }

    /// A command line as logged: escaped; PASS without its argument, the password.
    static func loggable(_ line: [UInt8], verb: String) -> String {
        verb == "PASS" ? "PASS" : LogEscape.escaped(bytes: line)
    }

    /// `command`: the line as logged, worked out only for a transfer.
    private func perform(_ action: FTPSession.Action, command: @autoclosure () -> String, on connection: any ConnectionContext) {
        switch action {
        case .reply(let reply):
            connection.write(reply.bytes)
        case .close:
            connection.closeAfterFlush()
        case .checkPassword(let user, let password):
            busy = true
            let users = config.users, throttle = config.throttle, ip = connection.id.remote.ip
            DispatchQueue.global().async { [self] in
                let success = users.verify(user: user, password: password)
                let delay = success ? 0 : throttle.failed(ip)
                if success { throttle.succeeded(ip) }
                DispatchQueue.global().asyncAfter(deadline: .now() + delay) {
                    connection.async { connection in
                        self.config.logger.info("ftp \(connection.logName) login \(LogEscape.escaped(user)) \(success ? "ok" : "failed")")
                        self.busy = false
                        for action in self.session?.passwordChecked(user: user, success: success) ?? [] {
                            self.perform(action, command: "PASS", on: connection)
                        }
                        self.drive(connection)
                    }
                }
            }
        case .enterPassive(let extended):
            channel?.close()
            channel = nil
            enterPassive(extended: extended, on: connection)
        case .setActive(let target):
            channel?.close()
            channel = DataChannel.active(registry: config.registry, target: target, local: connection.id.local.ip, timeout: config.dataTimeout)
        case .transfer(let job, let what):
            guard let channel else {
                if case .receive(let upload, _) = job { upload.abandon() }
                config.logger.info("ftp \(connection.logName) \(loggedUser) \"\(command())\" \(FTPReply.needDataChannel.code)")
                return connection.write(FTPReply.needDataChannel.bytes)
            }
            busy = true
            transfer = (command(), DispatchTime.now().uptimeNanoseconds)
            connection.write(FTPReply(150, "Opening data connection for \(what)").bytes)
            channel.run(job) { [self] outcome, bytes in
                connection.async { connection in self.transferEnded(outcome, bytes: bytes, on: connection) }
            }
        case .abort:
            if let channel, channel.abort() { return }
            channel?.close()
            channel = nil
            connection.write(FTPReply.noTransfer.bytes)
        }
    }

    private func enterPassive(extended: Bool, on connection: any ConnectionContext) {
        let local = connection.id.local.ip
        // PASV can only name an IPv4 address; IPv6 clients use EPSV. Behind NAT it names the
        // configured public address instead of ours (EPSV names no address at all).
        let v4 = DataAddress.ipv4(local).map { config.passiveAddress.flatMap(DataAddress.ipv4) ?? $0 }
        guard extended || v4 != nil else { return connection.write(FTPReply(425, "Use EPSV with IPv6").bytes) }
        guard let (opened, address) = DataChannel.passive(registry: config.registry, local: local, ports: config.passivePorts,
                                                          peer: connection.id.remote.ip, timeout: config.dataTimeout) else {
            return connection.write(FTPReply.cannotOpenData.bytes)
        }
        channel = opened
        if extended {
            connection.write(FTPReply(229, "Entering Extended Passive Mode (|||\(address.port)|)").bytes)
        } else if let v4 {
            let text = (v4 + [UInt8(address.port >> 8), UInt8(address.port & 0xFF)]).map(String.init).joined(separator: ",")
            connection.write(FTPReply(227, "Entering Passive Mode (\(text))").bytes)
        }
    }

    /// `bytes`: moved over the data connection, nil when a send broke off (how much of the
    /// queued data reached the peer is not known then).
    private func transferEnded(_ outcome: DataChannel.Outcome, bytes: Int64?, on connection: any ConnectionContext) {
        let reply: FTPReply
        switch outcome {
        case .complete: reply = .transferComplete
        case .broken: reply = .transferAborted
        case .noConnection: reply = .cannotOpenData
        case .localError: reply = .localError
        }
        connection.write(reply.bytes)
        if let transfer {
            let micros = (DispatchTime.now().uptimeNanoseconds - transfer.started) / 1000
            config.logger.info("ftp \(connection.logName) \(loggedUser) \"\(transfer.command)\" \(reply.code) \(bytes.map(String.init) ?? "-") \(micros / 1000).\(micros % 1000 / 100)ms")
        }
        // After ABOR: 426 for the transfer, then 226 for the ABOR itself (RFC 959 4.1.3).
        if aborting { connection.write(FTPReply.abortOK.bytes) }
        aborting = false
        transfer = nil
        channel?.close()
        channel = nil
        busy = false
        if draining { return sayGoodbye(connection) }
        drive(connection)
    }

    private func sayGoodbye(_ connection: any ConnectionContext) {
        connection.write(FTPReply.shuttingDown.bytes)
        connection.closeAfterFlush()
    }
}
