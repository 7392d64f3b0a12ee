import ServerCore

/// One SMTP connection's input side, sans I/O: the line framer (512 octets per command
/// line), the session and, after DATA, the data reader, joined so that bytes go in however
/// they were split and events come out one at a time, in order. SMTPConnectionSession takes
/// events only while it can answer (output not full, no delivery running); what it does not take
/// stays buffered here. A fuzz target or a test drives it the same way, without a socket.
public struct SMTPConversation: Sendable {
    public enum Event: Equatable, Sendable {
        case reply(SMTPReply)
        /// A message begins (its 354 was the previous event): open somewhere to keep it.
        case startMessage
        /// Message bytes, dot-stuffing removed, up to the size limit.
        case body([UInt8])
        /// The message is complete and within the limit: deliver it, then call `delivered`.
        /// No further event comes until then.
        case deliver(SMTPSession.Envelope, size: Int)
        /// The message is complete but over the limit: throw it away (552 follows).
        case discardMessage(SMTPSession.Envelope?, size: Int)
        /// Switch to TLS once the 220 before it has gone. The `discarded` bytes that followed
        /// the STARTTLS line came in plaintext and are gone (CVE-2011-0411); nothing more
        /// comes until `tlsStarted`.
        case startTLS(discarded: Int)
        case close
        /// The command line (empty if it was too long to keep) is refused with `reply`, the
        /// next event: for the operator's log.
        case refused(command: [UInt8], reply: SMTPReply)
        /// Nothing more until more bytes arrive (or, after `.deliver`, until `delivered`).
        case needMore
    }

    public private(set) var session: SMTPSession
    private var lines = LineFramer(maxLength: 512)
    private var reader: DataReader?
    private var body: [UInt8] = []
    private var messageEnded = false
    private var awaitingDelivery = false
    private var closed = false
    /// Events of one command, handed out one at a time (at most three: a reply, 354 and
    /// start, or a refusal, a reply and close).
    private var pending: [Event] = []

    /// `secure`: TLS from the first byte (SMTPS).
    public init(policy: SMTPSession.Policy, secure: Bool = false) {
        session = SMTPSession(policy: policy, secure: secure)
    }

    /// The TLS handshake is done: what arrives now is decrypted.
    public mutating func tlsStarted(_ info: TLSInfo) {
        session.tlsStarted(info)
    }

    public var greeting: SMTPReply { session.greeting }

    /// Bytes received and not yet turned into events: what a peer that sends faster than
    /// it is answered makes us hold.
    public var bufferedBytes: Int { lines.bufferedBytes + body.count }

    /// The size so far of a message being received, if one is.
    public var messageSize: Int? { reader?.size }

    public mutating func receive(_ bytes: UnsafeRawBufferPointer) {
        guard reader != nil, !messageEnded else { return lines.append(bytes) }
        readMessage(bytes)
    }

    public mutating func receive(_ bytes: [UInt8]) { bytes.withUnsafeBytes { receive($0) } }

    /// The answer to `.deliver`: the reply to the final dot.
    public mutating func delivered(_ reply: SMTPReply) {
        guard awaitingDelivery else { return }
        awaitingDelivery = false
        session.transactionEnded()
        pending.append(.reply(reply))
    }

    public mutating func next() -> Event {
        while true {
            if !pending.isEmpty { return pending.removeFirst() }
            if closed || awaitingDelivery { return .needMore }
            if let reader {
                if !body.isEmpty {
                    defer { body = [] }
                    return .body(body)
                }
                guard messageEnded else { return .needMore }
                self.reader = nil
                messageEnded = false
                guard let envelope = session.envelope, !reader.oversized else {
                    let envelope = session.envelope
                    session.transactionEnded()
                    pending.append(.reply(.tooBig))
                    return .discardMessage(envelope, size: reader.size)
                }
                awaitingDelivery = true
                return .deliver(envelope, size: reader.size)
            }
            switch lines.next() {
            case .needMore: return .needMore
            case .tooLong: take(session.lineTooLong(), command: [])
            case .line(let line): take(session.handle(line), command: line)
            }
        }
    }

    private mutating func take(_ actions: [SMTPSession.Action], command: [UInt8]) {
        if case .reply(let reply) = actions.first, reply.code >= 400 { pending.append(.refused(command: command, reply: reply)) }
        for action in actions {
            switch action {
            case .reply(let reply):
                pending.append(.reply(reply))
            case .close:
                pending.append(.close)
                closed = true
            case .receiveData:
                pending.append(.startMessage)
                reader = DataReader(limit: session.policy.maxMessageSize)
                // What followed DATA in the same packet is the message itself.
                lines.takeRemaining().withUnsafeBytes { readMessage($0) }
            case .startTLS:
                pending.append(.startTLS(discarded: lines.takeRemaining().count))
            }
        }
    }

    /// Feeds message bytes to the reader; what follows the final dot is command lines again.
    private mutating func readMessage(_ bytes: UnsafeRawBufferPointer) {
        guard var current = reader else { return }
        let end = current.read(bytes, into: &body)
        reader = current
        guard let end else { return }
        messageEnded = true
        lines.append(UnsafeRawBufferPointer(rebasing: bytes[end...]))
    }
}
