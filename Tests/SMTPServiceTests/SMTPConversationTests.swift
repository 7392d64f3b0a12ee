import PropertyBased
import Testing
@testable import SMTPService

/// The framer, session and data reader together, as the handler drives them.
@Suite struct SMTPConversationTests {
    static let policy = SMTPSession.Policy(hostname: "mx.example.test", domains: ["example.test"], maxMessageSize: 200, maxErrors: 1000)

    /// What a conversation produced: the reply bytes in order, and each message as delivered
    /// (its recipients and body) or discarded.
    struct Transcript: Equatable {
        var replies: [UInt8] = []
        var messages: [String] = []
        var closed = false
    }

    /// Feeds `chunks` in turn, taking every event after each, as the handler does.
    static func run(_ chunks: [[UInt8]]) -> Transcript {
        var conversation = SMTPConversation(policy: policy)
        var transcript = Transcript()
        var body: [UInt8] = []
        for chunk in chunks {
            conversation.receive(chunk)
            while true {
                switch conversation.next() {
                case .needMore: break
                case .reply(let reply): transcript.replies += reply.bytes; continue
                case .startMessage: body = []; continue
                case .body(let bytes): body += bytes; continue
                case .deliver(let envelope, let size):
                    transcript.messages.append("\(envelope.recipients) \(size) " + String(decoding: body, as: UTF8.self))
                    conversation.delivered(SMTPReply(250, "2.0.0", "OK"))
                    continue
                case .discardMessage(_, let size):
                    transcript.messages.append("discarded \(size)")
                    continue
                case .close: transcript.closed = true; continue
                case .startTLS(let discarded): transcript.messages.append("STARTTLS, \(discarded) bytes discarded"); continue
                case .refused: continue
                }
                break
            }
        }
        return transcript
    }

    static func text(_ chunks: String...) -> Transcript { run(chunks.map { Array($0.utf8) }) }

    /// `bytes` cut into pieces of the given sizes, taken in turn (and again from the first).
    static func split(_ bytes: [UInt8], sizes: [Int]) -> [[UInt8]] {
        var pieces: [[UInt8]] = []
        var offset = 0, turn = 0
        while offset < bytes.count {
            let size = max(1, sizes.isEmpty ? bytes.count : sizes[turn % sizes.count])
            pieces.append(Array(bytes[offset..<min(bytes.count, offset + size)]))
            offset += size
            turn += 1
        }
        return pieces
    }

    /// Pieces of conversations, hostile ones among them, that random streams are made of.
    static let pieces: [String] = [
        "EHLO client.test\r\n", "HELO c\r\n", "MAIL FROM:<a@outside.test>\r\n", "MAIL FROM:<a@outside.test> SIZE=100 BODY=8BITMIME\r\n",
        "MAIL FROM:<a@b> =\r\n", "MAIL FROM:<a@b> SIZE=-1\r\n", "RCPT TO:<x@example.test>\r\n", "RCPT TO:<y@example.test> =\r\n",
        "RCPT TO:<z@elsewhere.test>\r\n", "DATA\r\n", "Subject: s\r\n\r\n..dot\r\nline\n.\r\n", String(repeating: "b", count: 300) + "\r\n.\r\n",
        "body\r\n.\r\n", "NOOP\r\n", "RSET\r\n", "HELP\r\n", "VRFY x\r\n", "\u{1}\u{ff}garbage\r\n", "NOOP " + String(repeating: "x", count: 600) + "\r\n",
        "bare LF line\n", "\r\n", ".\r\n", "QUIT\r\n",
        // Lines at the 512-octet limit, counting CRLF: the longest accepted and the shortest refused.
        "NOOP " + String(repeating: "y", count: 505) + "\r\n", "NOOP " + String(repeating: "y", count: 506) + "\r\n",
    ]

    @Test func aStreamGivesTheSameRepliesAndMessagesHoweverItIsSplit() async {
        await propertyCheck(input: Gen.int(in: 0...(SMTPConversationTests.pieces.count - 1)).array(of: 1...40),
                            Gen.int(in: 1...80).array(of: 1...20)) { picks, sizes in
            let stream = Array(picks.map { SMTPConversationTests.pieces[$0] }.joined().utf8)
            let whole = SMTPConversationTests.run([stream])
            #expect(SMTPConversationTests.run(stream.map { [$0] }) == whole, "byte by byte")
            #expect(SMTPConversationTests.run(SMTPConversationTests.split(stream, sizes: sizes)) == whole, "split at \(sizes)")
        }
    }

    @Test func aPipelinedTransactionDeliversItsBodyOnce() {
        let transcript = SMTPConversationTests.text(
            "EHLO c\r\nMAIL FROM:<a@outside.test>\r\nRCPT TO:<x@example.test>\r\nDATA\r\nSubject: one\r\n\r\n..dot\r\n.\r\nNOOP\r\n")
        #expect(transcript.messages == ["[x@example.test] 22 Subject: one\r\n\r\n.dot\r\n"])
        #expect(String(decoding: transcript.replies, as: UTF8.self).hasSuffix("354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 OK\r\n250 2.0.0 OK\r\n"))
    }

    @Test func anOversizedMessageIsDiscardedAnd552Follows() {
        let transcript = SMTPConversationTests.text(
            "HELO c\r\nMAIL FROM:<a@outside.test>\r\nRCPT TO:<x@example.test>\r\nDATA\r\n", String(repeating: "y", count: 500), "\r\n.\r\nNOOP\r\n")
        #expect(transcript.messages == ["discarded 502"])
        #expect(String(decoding: transcript.replies, as: UTF8.self).hasSuffix("354 End data with <CR><LF>.<CR><LF>\r\n552 5.3.4 Message size exceeds fixed limit\r\n250 2.0.0 OK\r\n"))
    }

    @Test func nothingComesWhileADeliveryIsPending() {
        var conversation = SMTPConversation(policy: SMTPConversationTests.policy)
        conversation.receive(Array("HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<x@example.test>\r\nDATA\r\n.\r\nNOOP\r\n".utf8))
        var events: [SMTPConversation.Event] = []
        while true {
            let event = conversation.next()
            if event == .needMore { break }
            events.append(event)
        }
        #expect(events.last == .deliver(.init(sender: "", recipients: [MailAddress(path: "<x@example.test>")!]), size: 0))
        #expect(conversation.bufferedBytes == 6)
        conversation.delivered(SMTPReply(451, "4.3.0", "later"))
        #expect(conversation.next() == .reply(SMTPReply(451, "4.3.0", "later")))
        #expect(conversation.next() == .reply(.ok))
        #expect(conversation.next() == .needMore)
    }

    @Test func theLineLimitCountsCRLF() {
        let transcript = SMTPConversationTests.text("NOOP " + String(repeating: "y", count: 505) + "\r\n", "NOOP " + String(repeating: "y", count: 506) + "\r\n")
        #expect(String(decoding: transcript.replies, as: UTF8.self) == "250 2.0.0 OK\r\n500 5.5.2 Line too long\r\n")
    }

    @Test func afterQuitTheRestIsIgnored() {
        let transcript = SMTPConversationTests.text("QUIT\r\nNOOP\r\n", "NOOP\r\n")
        #expect(transcript.replies == Array("221 2.0.0 Bye\r\n".utf8))
        #expect(transcript.closed)
    }
}

@Suite struct SMTPRefusalEventTests {
    @Test func aRefusedCommandIsNamedBeforeItsReply() {
        var conversation = SMTPConversation(policy: SMTPConversationTests.policy)
        conversation.receive(Array("HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<x@elsewhere.test>\r\nRCPT TO:<x@example.test>\r\n".utf8))
        var events: [SMTPConversation.Event] = []
        while case let event = conversation.next(), event != .needMore { events.append(event) }
        #expect(events == [.reply(.helo("mx.example.test")), .reply(.senderOK),
                           .refused(command: Array("RCPT TO:<x@elsewhere.test>".utf8), reply: .relayDenied), .reply(.relayDenied),
                           .reply(.recipientOK)])
    }

    @Test func aLineTooLongIsRefusedWithoutItsBytes() {
        var conversation = SMTPConversation(policy: SMTPConversationTests.policy)
        conversation.receive(Array((String(repeating: "x", count: 600) + "\r\n").utf8))
        #expect(conversation.next() == .refused(command: [], reply: .lineTooLong))
        #expect(conversation.next() == .reply(.lineTooLong))
    }
}
