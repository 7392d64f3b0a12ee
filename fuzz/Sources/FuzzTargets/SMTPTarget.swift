import ServerCore
import SMTPService

/// The SMTP conversation as the server holds it: command lines through the line framer
/// into the session, and after DATA the bytes through the data reader until the end of
/// the message, then commands again. The same bytes given whole, one byte a read, and cut
/// at points drawn from the input give the same replies and messages; nothing a client
/// can send puts a control character into an envelope or the client's name (they go into
/// trace headers and logs).
enum SMTPTarget {
    static let target = FuzzTarget(name: "smtp", summary: "SMTP line framer, session and DATA reader: whole and split, compared") {
        run
    }

    /// A small message limit, so that inputs reach it.
    static let policy = SMTPSession.Policy(hostname: "mx.example.test", domains: ["example.test", "Example.ORG"],
                                           maxMessageSize: 600, maxRecipients: 4, maxErrors: 10)

    enum Event: Equatable {
        case reply(SMTPReply)
        case lineTooLong
        case message(SMTPSession.Envelope?, body: [UInt8], oversized: Bool)
        case close
    }

    static func run(_ data: UnsafeRawBufferPointer) {
        let input = [UInt8](data)
        let whole = converse(input, Pieces.whole(input.count))
        let bytewise = converse(input, Pieces.bytes(input.count))
        require(bytewise == whole, "one byte a read differs from whole:\n\(bytewise)\n\(whole)")
        let cut = converse(input, Pieces.cuts(input))
        require(cut == whole, "cut at \(Pieces.cuts(input)) differs from whole:\n\(cut)\n\(whole)")
    }

    /// The conversation as SMTPConnectionSession runs it, with delivery replaced by an event.
    struct Conversation {
        var session = SMTPSession(policy: SMTPTarget.policy)
        var lines = LineFramer(maxLength: 512)
        var reader: DataReader?
        var body: [UInt8] = []
        var events: [Event] = []
        var closed = false

        mutating func receive(_ bytes: ArraySlice<UInt8>) {
            if reader != nil {
                guard let end = readMessage(bytes) else { return }
                lines.append(Array(bytes.dropFirst(end)))
            } else {
                lines.append(Array(bytes))
            }
            takeCommands()
        }

        mutating func takeCommands() {
            while !closed && reader == nil {
                let actions: [SMTPSession.Action]
                switch lines.next() {
                case .needMore: return
                case .tooLong:
                    events.append(.lineTooLong)
                    actions = session.lineTooLong()
                case .line(let line): actions = session.handle(line)
                }
                checkEnvelope()
                for action in actions { perform(action) }
            }
        }

        mutating func perform(_ action: SMTPSession.Action) {
            switch action {
            case .reply(let reply): events.append(.reply(reply))
            case .close:
                events.append(.close)
                closed = true
            case .receiveData:
                reader = DataReader(limit: SMTPTarget.policy.maxMessageSize)
                let rest = lines.takeRemaining()
                if let end = readMessage(rest[...]) { lines.append(Array(rest.dropFirst(end))) }
            }
        }

        /// Message bytes to the reader; at the end of the message, how many of `bytes` it took.
        mutating func readMessage(_ bytes: ArraySlice<UInt8>) -> Int? {
            guard var current = reader else { return nil }
            let end = bytes.withUnsafeBytes { current.read($0, into: &body) }
            reader = current
            guard let end else { return nil }
            require(body.count <= current.limit, "kept \(body.count) bytes past the limit \(current.limit)")
            events.append(.message(session.envelope, body: body, oversized: current.oversized))
            reader = nil
            body = []
            session.transactionEnded()
            return end
        }

        func checkEnvelope() {
            let texts = [session.clientName ?? "", session.envelope?.sender ?? ""] + (session.envelope?.recipients.map(\.description) ?? [])
            for text in texts {
                require(!text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "control character in \(Array(text.utf8))")
            }
        }
    }

    static func converse(_ input: [UInt8], _ pieces: [Range<Int>]) -> [Event] {
        var conversation = Conversation()
        for piece in pieces where !conversation.closed {
            conversation.receive(input[piece])
        }
        return conversation.events
    }
}
