import Dispatch
import Glibc
import ServerCore

/// Wires one connection to the conversation: bytes go in as they arrive, events come out
/// in order and are acted on; the body goes into a spool file; delivery runs off the
/// connection's queue, and input that arrives meanwhile waits, so replies stay in order.
///
/// Bounds, per answer rather than per read: events are taken only while the connection's
/// output is under `Connection.outputIsFull` (1 MiB), checked after each reply, so a client
/// that pipelines commands and never reads its replies costs at most 1 MiB plus one reply
/// (the longest, HELP or EHLO, is under 300 bytes) of output, and at most 64 KiB plus one
/// read of unanswered input before reading pauses.
///
/// Confined to its connection's queue; the delivery's completion comes back through
/// `connection.async`, hence `@unchecked Sendable`.
final class SMTPHandler: ConnectionHandler, @unchecked Sendable {
    private let config: SMTPConfiguration
    private var conversation: SMTPConversation
    private var message: (spool: MaildirStore.Spool, started: UInt64)?
    private var delivering = false
    private var draining = false
    /// A message has ended and its reply is the next one: a draining server says goodbye after it.
    private var answeringMessage = false
    static let inputLimit = 64 * 1024

    init(_ config: SMTPConfiguration) {
        self.config = config
        conversation = SMTPConversation(policy: config.policy)
    }

    private var session: SMTPSession { conversation.session }

    func connectionOpened(_ connection: any ConnectionContext) {
        connection.setIdleTimeout(config.idleTimeout)
        connection.write(conversation.greeting.bytes)
    }

    func connection(_ connection: any ConnectionContext, received bytes: UnsafeRawBufferPointer) {
        connection.setIdleTimeout(config.idleTimeout)
        conversation.receive(bytes)
        advance(connection)
    }

    func connectionWritable(_ connection: any ConnectionContext) { advance(connection) }

    func connectionShouldDrain(_ connection: any ConnectionContext) {
        draining = true
        if message == nil && !delivering { sayGoodbye(connection) }
    }

    func connectionClosed(_ connection: any ConnectionContext, reason: CloseReason) {
        // A client gone mid-DATA: nothing of its message is kept.
        if let message {
            message.spool.discard()
            self.message = nil
            config.logger.info("smtp \(connection.logName) \(SMTPHandler.describe(session.envelope)) size=\(conversation.messageSize ?? 0) aborted: \(reason.rawValue)")
        }
    }

    /// Acts on events until one has to wait: for input, for a delivery, or for the peer to
    /// read what it has been sent.
    private func advance(_ connection: any ConnectionContext) {
        while connection.isOpen && !delivering {
            if connection.outputIsFull {
                connection.notifyWhenWritable()
                break
            }
            let event = conversation.next()
            if case .needMore = event { break }
            perform(event, on: connection)
        }
        if conversation.bufferedBytes > SMTPHandler.inputLimit { connection.pauseReading() } else { connection.resumeReading() }
    }

    private func perform(_ event: SMTPConversation.Event, on connection: any ConnectionContext) {
        switch event {
        case .reply(let reply):
            connection.write(reply.bytes)
            if answeringMessage {
                answeringMessage = false
                if draining { sayGoodbye(connection) }
            }
        case .close:
            connection.closeAfterFlush()
        case .refused(let command, let reply):
            config.logger.info("smtp \(connection.logName) refused \"\(SMTPHandler.loggable(command))\" from=\(session.envelope.map { "<" + LogEscape.escaped($0.sender) + ">" } ?? "-") \(reply.code) \(reply.enhanced ?? "") \(reply.lines.last ?? "")")
        case .startMessage:
            do {
                message = (try config.store.spool(), DispatchTime.now().uptimeNanoseconds)
            } catch {
                config.logger.error("smtp \(connection.logName) \(error)")
                connection.write(SMTPReply.deliveryFailed.bytes)
                connection.closeAfterFlush()
            }
        case .body(let bytes):
            message?.spool.write(bytes)
        case .discardMessage(let envelope, let size):
            guard let message else { return }
            self.message = nil
            answeringMessage = true
            message.spool.discard()
            logTransaction(.tooBig, envelope: envelope, size: size, started: message.started, on: connection)
        case .deliver(let envelope, let size):
            guard let message else { return }
            self.message = nil
            answeringMessage = true
            finish(message, envelope: envelope, size: size, on: connection)
        case .needMore:
            break
        }
    }

    private func finish(_ message: (spool: MaildirStore.Spool, started: UInt64), envelope: SMTPSession.Envelope, size: Int,
                        on connection: any ConnectionContext) {
        delivering = true
        let id = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let client = (name: session.clientName ?? "unknown", ip: connection.id.remote.ip.description, extended: session.extended)
        let store = config.store, hostname = config.policy.hostname, logger = config.logger
        DispatchQueue.global().async { [self] in
            let reply: SMTPReply
            do {
                let now = Int(time(nil))
                _ = try store.deliver(message.spool, to: envelope.recipients) { recipient in
                    TraceHeader.lines(sender: envelope.sender, clientName: client.name, clientIP: client.ip, hostname: hostname,
                                      extended: client.extended, id: id, recipient: recipient, date: now)
                }
                reply = .queued(id)
            } catch {
                logger.error("smtp \(connection.logName) \(error)")
                reply = .deliveryFailed
            }
            message.spool.discard()
            connection.async { connection in
                self.delivering = false
                self.logTransaction(reply, envelope: envelope, size: size, started: message.started, on: connection)
                self.conversation.delivered(reply)
                self.advance(connection)
            }
        }
    }

    /// Logs the end of a message (its reply is the conversation's next event).
    private func logTransaction(_ reply: SMTPReply, envelope: SMTPSession.Envelope?, size: Int, started: UInt64, on connection: any ConnectionContext) {
        let micros = (DispatchTime.now().uptimeNanoseconds - started) / 1000
        config.logger.info("smtp \(connection.logName) \(SMTPHandler.describe(envelope)) size=\(size) \(reply.code) \(reply.enhanced ?? "") \(reply.lines.last ?? "") \(micros / 1000).\(micros % 1000 / 100)ms")
    }

    /// Addresses come off the wire (a quoted local part may hold `"` or `\`): escaped.
    private static func describe(_ envelope: SMTPSession.Envelope?) -> String {
        guard let envelope else { return "from=<> to=" }
        return "from=<\(LogEscape.escaped(envelope.sender))> to=" + envelope.recipients.map { "<\(LogEscape.escaped($0.description))>" }.joined(separator: ",")
    }

    /// A refused command line as logged: escaped; `-` when it was too long to keep; AUTH
    /// without its argument, which may be a password.
    static func loggable(_ command: [UInt8]) -> String {
        guard !command.isEmpty else { return "-" }
        let verb = command.prefix { $0 != 0x20 }
        if verb.count == 4 && String(decoding: verb, as: UTF8.self).uppercased() == "AUTH" { return LogEscape.escaped(bytes: verb) }
        return LogEscape.escaped(bytes: command)
    }

    private func sayGoodbye(_ connection: any ConnectionContext) {
        connection.write(SMTPReply.shuttingDown.bytes)
        connection.closeAfterFlush()
    }
}
