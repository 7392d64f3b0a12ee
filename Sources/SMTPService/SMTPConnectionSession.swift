import Glibc
import ServerCore

/// SMTP on one TCP connection, as `SessionDriver` runs it: the conversation's events become
/// actions, one at a time, in order. The session decides every reply: 552 for a message
/// past the limit when DATA ends, 250 or 451 when the delivery it offloaded comes back, and
/// the 421 goodbye of a draining server once the message in flight has its reply. The
/// driver holds later input while a delivery runs, so replies stay in order.
///
/// Bounds, per answer rather than per read (the driver's): a step is taken only while the
/// connection's output is under `outputIsFull` (1 MiB), so a client that pipelines commands
/// and never reads its replies costs at most 1 MiB plus one reply (the longest, HELP or
/// EHLO, is under 300 bytes) of output, and at most 64 KiB plus one read of unanswered
/// input before reading pauses.
///
/// The body goes into a spool file as it arrives, written here on the connection's queue:
/// a `write(2)` into the page cache with no fsync returns without waiting for the disk (as
/// nginx writes request bodies to its temporary files from its event loop), and keeps memory
/// flat whatever the message's size. What waits for the disk (the copies, their fsync and
/// the renames into new/) is the delivery, offloaded to the blocking pool.
struct SMTPConnectionSession: ConnectionSession {
    /// How the offloaded delivery ended.
    enum Completion: Sendable {
        case queued(id: String)
        case failed(String)
    }

    private let config: SMTPConfiguration
    private let clientIP: String
    private var conversation: SMTPConversation
    /// The spool of the message being received; handed to the delivery when it ends.
    private var message: MaildirStore.Spool?
    /// The envelope and size of the message being delivered, for its log line.
    private var delivering: (envelope: SMTPSession.Envelope, size: Int)?
    private var draining = false
    /// A message has ended and its reply is the next one: a draining server says goodbye after it.
    private var answeringMessage = false
    /// Bytes arrived since the last step: the idle clock starts again.
    private var heardFrom = false
    /// A close has been asked for: nothing more is taken.
    private var finished = false

    init(_ config: SMTPConfiguration, clientIP: String, implicitTLS: Bool = false) {
        self.config = config
        self.clientIP = clientIP
        conversation = SMTPConversation(policy: config.policy, secure: implicitTLS)
    }

    var bufferedBytes: Int { conversation.bufferedBytes }

    mutating func start() -> Actions {
        config.metrics?.began()
        return [.idleTimeout(config.idleTimeout), .write(conversation.greeting.bytes)]
    }

    mutating func receive(_ bytes: UnsafeRawBufferPointer) {
        heardFrom = true
        conversation.receive(bytes)
    }

    /// An event that asks for nothing (a message's start, a piece of its body) is still a
    /// step taken: `[]`, not nil, so the driver goes on to the next.
    mutating func step() -> Actions? {
        var actions: Actions = []
        if heardFrom {
            heardFrom = false
            actions.append(.idleTimeout(config.idleTimeout))
        }
        let inTransaction = conversation.session.envelope != nil
        guard !finished, let taken = take(conversation.next()) else { return actions.isEmpty ? nil : actions }
        // A transaction's access line is timed from its MAIL command.
        if !inTransaction && conversation.session.envelope != nil { actions.append(.beginExchange) }
        return actions + taken
    }

    mutating func tlsStarted(_ tls: TLSInfo) -> Actions {
        conversation.tlsStarted(tls)
        return [.log(.info, "TLS established: \(tls.summary)")]
    }

    mutating func complete(_ completion: Completion) -> Actions {
        guard let ended = delivering else { return [] }
        delivering = nil
        var actions: Actions = []
        let reply: SMTPReply
        switch completion {
        case .queued(let id):
            reply = .queued(id)
        case .failed(let error):
            actions.append(.log(.error, error))
            reply = .deliveryFailed
        }
        config.metrics?.ended(reply, size: ended.size)
        actions.append(.log(.access, transaction(ended.envelope, size: ended.size, reply)))
        conversation.delivered(reply)
        return actions
    }

    mutating func drain() -> Actions {
        draining = true
        guard message == nil && delivering == nil && !answeringMessage else { return [] }
        return goodbye()
    }

    mutating func closed(_ reason: CloseReason) -> Actions {
        // A client gone mid-DATA: nothing of its message is kept.
        guard let message else { return [] }
        message.discard()
        self.message = nil
        return [.log(.access, "\(describe(conversation.session.envelope)) size=\(conversation.messageSize ?? 0)\(tlsField) aborted: \(reason.rawValue)")]
    }

    /// The actions for one event; nil for `.needMore`.
    private mutating func take(_ event: SMTPConversation.Event) -> Actions? {
        switch event {
        case .needMore:
            return nil
        case .reply(let reply):
            guard answeringMessage else { return [.write(reply.bytes)] }
            answeringMessage = false
            return [.write(reply.bytes)] + (draining ? goodbye() : [])
        case .close:
            finished = true
            return [.closeAfterFlush(lingering: true)]
        case .startTLS(let discarded):
            guard let tls = config.tls else {
                finished = true
                return [.close]
            }
            let note: Actions = discarded == 0 ? [] : [.log(.notice, "discarded \(discarded) bytes sent in plaintext after STARTTLS")]
            return note + [.startTLS(tls.current)]
        case .refused(let command, let reply):
            let sender = conversation.session.envelope.map { "<" + LogEscape.escaped($0.sender) + ">" } ?? "-"
            return [.log(.info, "refused \"\(SMTPConnectionSession.loggable(command))\" from=\(sender) \(reply.code) \(reply.enhanced ?? "") \(reply.lines.last ?? "")")]
        case .startMessage:
            do {
                message = try config.store.spool()
                return []
            } catch {
                finished = true
                return [.log(.error, "\(error)"), .write(SMTPReply.deliveryFailed.bytes), .closeAfterFlush(lingering: true)]
            }
        case .body(let bytes):
            message?.write(bytes)
            return []
        case .discardMessage(let envelope, let size):
            // Over the limit: 552, the conversation's next event.
            guard let message else { return [] }
            self.message = nil
            answeringMessage = true
            message.discard()
            config.metrics?.ended(.tooBig, size: size)
            return [.log(.access, transaction(envelope, size: size, .tooBig))]
        case .deliver(let envelope, let size):
            guard let message else { return [] }
            self.message = nil
            answeringMessage = true
            delivering = (envelope, size)
            return [.offload(delivery(of: message, envelope: envelope), busy: SMTPReply.overloaded.bytes)]
        }
    }

    /// The blocking part of a delivery, for the pool: the copies into each Maildir, fsync'ed
    /// and renamed. The spool file goes with it and is removed when it ends; if the pool is
    /// full the closure is dropped unrun and the spool's deinit removes the file.
    private func delivery(of spool: MaildirStore.Spool, envelope: SMTPSession.Envelope) -> @Sendable () -> Completion {
        let id = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let store = config.store, hostname = config.policy.hostname
        let session = conversation.session
        let client = TraceHeader.Client(name: session.clientName ?? "unknown", ip: clientIP, extended: session.extended, tls: session.tls)
        return {
            defer { spool.discard() }
            do {
                let now = Int(time(nil))
                _ = try store.deliver(spool, to: envelope.recipients) { recipient in
                    TraceHeader.lines(sender: envelope.sender, client: client, hostname: hostname, id: id, recipient: recipient, date: now)
                }
                return .queued(id: id)
            } catch {
                return .failed("\(error)")
            }
        }
    }

    private mutating func goodbye() -> Actions {
        finished = true
        return [.write(SMTPReply.shuttingDown.bytes), .closeAfterFlush(lingering: true)]
    }

    /// The line for the end of a message (the driver adds its duration).
    private func transaction(_ envelope: SMTPSession.Envelope?, size: Int, _ reply: SMTPReply) -> String {
        "\(describe(envelope)) size=\(size)\(tlsField) \(reply.code) \(reply.enhanced ?? "") \(reply.lines.last ?? "")"
    }

    /// ` tls=TLSv1.3` in a transaction's line when it came over TLS.
    private var tlsField: String { conversation.session.tls.map { " tls=\($0.version)" } ?? "" }

    /// Addresses come off the wire (a quoted local part may hold `"` or `\`): escaped.
    private func describe(_ envelope: SMTPSession.Envelope?) -> String {
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
}
