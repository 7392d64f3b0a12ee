import ServerCore
import SMTPService

/// The SMTP conversation as the server holds it (SMTPConversation: line framer, session,
/// DATA reader), each message delivered at once. The same bytes given whole, one byte a
/// read (up to 1 KiB), and cut at points drawn from the input give the same events (message
/// bytes joined however they came); a message keeps at most the size limit, and what is
/// delivered is all of it; nothing a client sends puts a control character into its name
/// or an envelope (they go into trace headers and logs). STARTTLS is offered (required when
/// the first byte is odd): when the conversation asks for the switch it holds no input and
/// has no event left, and the bytes it dropped are fed again as if they came over TLS, so
/// that every split still gives the same events.
enum SMTPTarget {
    static let target = FuzzTarget(name: "smtp", summary: "SMTP conversation (framer, session, DATA reader): whole and split, compared") {
        run
    }

    /// A small message limit, so that inputs reach it.
    static func policy(_ tls: SMTPSession.TLSPolicy) -> SMTPSession.Policy {
        SMTPSession.Policy(hostname: "mx.example.test", domains: ["example.test", "Example.ORG"],
                           maxMessageSize: 600, maxRecipients: 4, maxErrors: 10, tls: tls)
    }
    static let queued = SMTPReply(250, "2.0.0", "OK: queued")
    static let tls = TLSInfo(version: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256", resumed: false)

    static func run(_ data: UnsafeRawBufferPointer) {
        let input = [UInt8](data)
        let whole = converse(input, Pieces.whole(input.count))
        // One byte a read costs the framer a scan of the line so far per byte: longer inputs
        // are only cut, or runs would crawl.
        if input.count <= 1024 {
            let bytewise = converse(input, Pieces.bytes(input.count))
            require(bytewise == whole, "one byte a read differs from whole:\n\(bytewise)\n\(whole)")
        }
        let cut = converse(input, Pieces.cuts(input))
        require(cut == whole, "cut at \(Pieces.cuts(input)) differs from whole:\n\(cut)\n\(whole)")
    }

    /// The events, each `.startTLS` carrying the input offset where plaintext ended (the same
    /// however the input was cut) instead of the count it dropped.
    static func converse(_ input: [UInt8], _ pieces: [Range<Int>]) -> [SMTPConversation.Event] {
        let policy = policy(input.first.map { $0 & 1 == 1 } == true ? .required : .optional)
        var conversation = SMTPConversation(policy: policy)
        var events: [SMTPConversation.Event] = []
        var message = 0
        var reads = pieces[...]
        while let piece = reads.popFirst() {
            input[piece].withUnsafeBytes { conversation.receive($0) }
            while true {
                let event = conversation.next()
                switch event {
                case .needMore:
                    break
                case .reply:
                    checkNames(conversation.session)
                case .startMessage:
                    message = 0
                case .body(let bytes):
                    message += bytes.count
                    require(message <= policy.maxMessageSize, "kept \(message) bytes of a message, past the limit")
                    if case .body(let earlier) = events.last {
                        events[events.count - 1] = .body(earlier + bytes)
                        continue
                    }
                case .deliver(_, let size):
                    require(size == message, "delivers \(size) bytes, kept \(message)")
                    conversation.delivered(queued)
                case .startTLS(let discarded):
                    require(conversation.bufferedBytes == 0, "holds \(conversation.bufferedBytes) bytes after STARTTLS")
                    require(conversation.next() == .needMore, "an event after STARTTLS before the handshake")
                    require(discarded <= piece.count, "dropped \(discarded) bytes of a \(piece.count)-byte read")
                    let end = piece.upperBound - discarded
                    conversation.tlsStarted(tls)
                    if discarded > 0 { reads.insert(end..<piece.upperBound, at: reads.startIndex) }
                    events.append(.startTLS(discarded: end))
                    continue
                default:
                    break
                }
                if event == .needMore { break }
                events.append(event)
            }
        }
        return events
    }

    static func checkNames(_ session: SMTPSession) {
        let texts = [session.clientName ?? "", session.envelope?.sender ?? ""] + (session.envelope?.recipients.map(\.description) ?? [])
        for text in texts {
            require(!text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "control character in \(Array(text.utf8))")
        }
    }
}
