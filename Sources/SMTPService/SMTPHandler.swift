import Dispatch
import Glibc
import ServerCore

/// Wires one connection to the session: command lines (512 octets at most) go to the
/// state machine in order, however they were pipelined; after DATA the bytes go through
/// the data reader into a spool file; delivery runs off the connection's queue, and
/// input that arrives meanwhile waits, so replies stay in order.
///
/// Confined to its connection's queue; the delivery's completion comes back through
/// `connection.async`, hence `@unchecked Sendable`.
final class SMTPHandler: ConnectionHandler, @unchecked Sendable {
    private let config: SMTPConfiguration
    private var session: SMTPSession
    private var lines = LineFramer(maxLength: 512)
    private var message: (reader: DataReader, spool: MaildirStore.Spool, started: UInt64)?
    private var delivering = false
    private var held: [UInt8] = []
    private var admitted = false
    private var draining = false

    init(_ config: SMTPConfiguration) {
        self.config = config
        session = SMTPSession(policy: config.policy)
    }

    func connectionOpened(_ connection: Connection) {
        guard config.perAddress.acquire(connection.id.remote.ip) else {
            config.logger.notice("smtp \(connection.logName) refused: too many connections from this address")
            connection.write(SMTPReply.busy.bytes)
            return connection.closeAfterFlush()
        }
        admitted = true
        connection.setIdleTimeout(config.idleTimeout)
        connection.write(session.greeting.bytes)
    }

    func connection(_ connection: Connection, received bytes: UnsafeRawBufferPointer) {
        connection.setIdleTimeout(config.idleTimeout)
        if delivering {
            held.append(contentsOf: bytes)
            if held.count > 64 * 1024 { connection.pauseReading() }
            return
        }
        consume(bytes, on: connection)
    }

    func connectionShouldDrain(_ connection: Connection) {
        draining = true
        if message == nil && !delivering { sayGoodbye(connection) }
    }

    func connectionClosed(_ connection: Connection, reason: CloseReason) {
        if admitted { config.perAddress.release(connection.id.remote.ip) }
        // A client gone mid-DATA: nothing of its message is kept.
        if let message {
            message.spool.discard()
            self.message = nil
            config.logger.info("smtp \(connection.logName) \(envelopeText) size=\(message.reader.size) aborted: \(reason.rawValue)")
        }
    }

    private func consume(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        if message != nil {
            guard let end = readMessage(bytes, on: connection) else { return }
            lines.append(UnsafeRawBufferPointer(rebasing: bytes[end...]))
        } else {
            lines.append(bytes)
        }
        takeCommands(connection)
    }

    private func takeCommands(_ connection: Connection) {
        while connection.isOpen && message == nil && !delivering {
            let actions: [SMTPSession.Action]
            switch lines.next() {
            case .needMore: return
            case .tooLong: actions = session.lineTooLong()
            case .line(let line): actions = session.handle(line)
            }
            for action in actions { perform(action, on: connection) }
        }
    }

    private func perform(_ action: SMTPSession.Action, on connection: Connection) {
        switch action {
        case .reply(let reply):
            connection.write(reply.bytes)
        case .close:
            connection.closeAfterFlush()
        case .receiveData:
            do {
                message = (DataReader(limit: config.policy.maxMessageSize), try config.store.spool(), DispatchTime.now().uptimeNanoseconds)
            } catch {
                config.logger.error("smtp \(connection.logName) \(error)")
                connection.write(SMTPReply.deliveryFailed.bytes)
                return connection.closeAfterFlush()
            }
            // What followed DATA in the same packet is the message itself.
            let rest = lines.takeRemaining()
            rest.withUnsafeBytes { raw in
                if let end = readMessage(raw, on: connection) { lines.append(UnsafeRawBufferPointer(rebasing: raw[end...])) }
            }
        }
    }

    /// Feeds message bytes to the reader and the spool; at the end, starts delivery and
    /// returns how much of `bytes` was message.
    private func readMessage(_ bytes: UnsafeRawBufferPointer, on connection: Connection) -> Int? {
        guard var current = message else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        let end = current.reader.read(bytes, into: &output)
        current.spool.write(output)
        message = current
        guard let end else { return nil }
        message = nil
        finish(current, on: connection)
        return end
    }

    private func finish(_ message: (reader: DataReader, spool: MaildirStore.Spool, started: UInt64), on connection: Connection) {
        guard let envelope = session.envelope else { return message.spool.discard() }
        if message.reader.oversized {
            message.spool.discard()
            return concluded(.tooBig, size: message.reader.size, started: message.started, on: connection)
        }
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
                self.concluded(reply, size: message.reader.size, started: message.started, on: connection)
                let waiting = self.held
                self.held = []
                connection.resumeReading()
                waiting.withUnsafeBytes { self.consume($0, on: connection) }
            }
        }
    }

    /// Replies to the end of a message and logs the transaction.
    private func concluded(_ reply: SMTPReply, size: Int, started: UInt64, on connection: Connection) {
        connection.write(reply.bytes)
        let micros = (DispatchTime.now().uptimeNanoseconds - started) / 1000
        config.logger.info("smtp \(connection.logName) \(envelopeText) size=\(size) \(reply.code) \(reply.enhanced ?? "") \(reply.lines.last ?? "") \(micros / 1000).\(micros % 1000 / 100)ms")
        session.transactionEnded()
        if draining { sayGoodbye(connection) }
    }

    private var envelopeText: String {
        guard let envelope = session.envelope else { return "from=<> to=" }
        return "from=<\(envelope.sender)> to=" + envelope.recipients.map { "<\($0)>" }.joined(separator: ",")
    }

    private func sayGoodbye(_ connection: Connection) {
        connection.write(SMTPReply.shuttingDown.bytes)
        connection.closeAfterFlush()
    }
}
