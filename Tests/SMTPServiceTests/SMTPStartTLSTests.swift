import ServerCore
import Testing
@testable import SMTPService

/// STARTTLS (RFC 3207) and SMTPS (RFC 8314): the session's rules, the conversation dropping
/// what was pipelined behind STARTTLS (CVE-2011-0411), and the handler on the test double,
/// which records the switch and plays the finished handshake.
@Suite struct SMTPStartTLSTests {
    static let tls = TLSInfo(version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384", resumed: false)

    func session(_ tls: SMTPSession.TLSPolicy, secure: Bool = false) -> SMTPSession {
        SMTPSession(policy: .init(hostname: "mx.example.test", domains: ["example.test"], tls: tls), secure: secure)
    }

    /// Each reply as "250 2.1.0" (EHLO's as its lines joined by "|"), `TLS` for the switch.
    func run(_ lines: [String], on session: inout SMTPSession) -> [String] {
        lines.flatMap { line in
            session.handle(Array(line.utf8)).map { action -> String in
                switch action {
                case .reply(let reply) where reply.lines.count > 1: return reply.lines.joined(separator: "|")
                case .reply(let reply): return "\(reply.code) \(reply.enhanced ?? "")"
                case .receiveData: return "DATA"
                case .close: return "CLOSE"
                case .startTLS: return "TLS"
                }
            }
        }
    }

    static let ehlo = "mx.example.test greets c|SIZE 26214400|PIPELINING|8BITMIME|ENHANCEDSTATUSCODES|SMTPUTF8"

    @Test func startTLSResetsTheSessionToAfterTheGreeting() {
        var s = session(.optional)
        #expect(run(["EHLO c", "MAIL FROM:<a@b.test>", "STARTTLS"], on: &s)
                == [Self.ehlo + "|STARTTLS|HELP", "250 2.1.0", "220 2.0.0", "TLS"])
        #expect(s.clientName == nil && s.envelope == nil && !s.extended && s.secure)
        s.tlsStarted(Self.tls)
        #expect(run(["MAIL FROM:<a@b.test>", "EHLO c", "STARTTLS", "STARTTLS now", "MAIL FROM:<a@b.test>"], on: &s)
                == ["503 5.5.1", Self.ehlo + "|HELP", "503 5.5.1", "503 5.5.1", "250 2.1.0"])
        #expect(s.tls == Self.tls)
    }

    @Test func startTLSWithAnArgumentIs501AndOffIs502() {
        var s = session(.optional)
        #expect(run(["EHLO c", "STARTTLS x", "MAIL FROM:<a@b.test>"], on: &s) == [Self.ehlo + "|STARTTLS|HELP", "501 5.5.4", "250 2.1.0"])
        var off = session(.off)
        #expect(run(["EHLO c", "STARTTLS"], on: &off) == [Self.ehlo + "|HELP", "502 5.5.1"])
    }

    @Test func helpNamesStartTLSOnlyWhileItIsOffered() {
        var s = session(.optional)
        #expect(run(["HELP"], on: &s) == ["Commands: EHLO HELO STARTTLS MAIL RCPT DATA RSET NOOP QUIT VRFY HELP|Mail is accepted for local domains only"])
        var secure = session(.optional, secure: true)
        #expect(run(["HELP"], on: &secure) == ["Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP|Mail is accepted for local domains only"])
        var off = session(.off)
        #expect(run(["HELP"], on: &off) == ["Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP|Mail is accepted for local domains only"])
    }

    @Test func requiredRefusesMailBeforeStartTLS() {
        var s = session(.required)
        #expect(run(["EHLO c", "MAIL FROM:<a@b.test>", "RCPT TO:<x@example.test>", "STARTTLS", "EHLO c", "MAIL FROM:<a@b.test>"], on: &s)
                == [Self.ehlo + "|STARTTLS|HELP", "530 5.7.0", "503 5.5.1", "220 2.0.0", "TLS", Self.ehlo + "|HELP", "250 2.1.0"])
    }

    @Test func implicitTLSIsSecureFromTheStart() {
        var s = session(.required, secure: true)
        #expect(run(["EHLO c", "STARTTLS", "MAIL FROM:<a@b.test>"], on: &s) == [Self.ehlo + "|HELP", "503 5.5.1", "250 2.1.0"])
    }

    /// Commands in the packet after STARTTLS are dropped whole, however the bytes came.
    @Test(arguments: [1, 3, 7, 1000])
    func whatFollowsStartTLSIsDiscarded(_ size: Int) {
        var conversation = SMTPConversation(policy: .init(hostname: "mx.example.test", domains: ["example.test"], tls: .optional))
        let injected = "MAIL FROM:<evil@outside.test>\r\nRCPT TO:<victim@example.test>\r\n"
        let bytes = Array(("EHLO c\r\nSTARTTLS\r\n" + injected).utf8)
        var events: [SMTPConversation.Event] = []
        var offset = 0, discarded: Int?
        // Fed as the connection would: nothing more once the switch is asked for.
        while offset < bytes.count && discarded == nil {
            let end = min(bytes.count, offset + size)
            conversation.receive(Array(bytes[offset..<end]))
            offset = end
            while true {
                let event = conversation.next()
                if event == .needMore { break }
                events.append(event)
                if case .startTLS(let n) = event { discarded = n }
            }
        }
        #expect(events.count == 3 && events.dropFirst().first == .reply(.readyForTLS), "\(events)")
        #expect((discarded ?? -1) + bytes.count - offset == injected.utf8.count, "every byte after the STARTTLS line is dropped or unread")
        #expect(conversation.bufferedBytes == 0)
        conversation.tlsStarted(Self.tls)
        conversation.receive(Array("RCPT TO:<victim@example.test>\r\n".utf8))
        #expect(conversation.next() == .refused(command: Array("RCPT TO:<victim@example.test>".utf8), reply: .needMail))
    }

    @Test func theHandlerSwitchesDropsTheRestAndSaysTLSInTheMessageAndTheLog() throws {
        let harness = try SMTPConnectionSessionTests.Harness(tls: .optional)
        let connection = harness.connection
        _ = connection.takeText()
        harness.send("EHLO c\r\nSTARTTLS\r\nMAIL FROM:<evil@outside.test>\r\nRCPT TO:<x@example.test>\r\n")
        let text = connection.takeText()
        #expect(text.contains("250-STARTTLS\r\n"))
        #expect(text.hasSuffix("250 HELP\r\n220 2.0.0 Ready to start TLS\r\n"), "\(text)")
        #expect(connection.startedTLS.count == 1)
        #expect(harness.log.all.contains { $0.contains("discarded 57 bytes sent in plaintext after STARTTLS") }, "\(harness.log.all)")
        connection.tls = Self.tls
        harness.send("EHLO c\r\n")
        let ehlo = connection.takeText()
        #expect(ehlo.hasPrefix("250-mx.example.test greets c\r\n") && !ehlo.contains("STARTTLS"), "\(ehlo)")
        #expect(harness.log.all.contains { $0.hasSuffix("TLS established: TLSv1.3 TLS_AES_256_GCM_SHA384") })
        harness.send("MAIL FROM:<a@outside.test>\r\nRCPT TO:<x@example.test>\r\nDATA\r\n" + SMTPConnectionSessionTests.body)
        harness.settle(within: 2)
        #expect(connection.takeText().contains("250 2.0.0 OK: queued as "))
        #expect(connection.startedTLS.count == 1)
        let stored = harness.files("x").first.flatMap { try? String(contentsOfFile: harness.data + "/mail/example.test/x/new/" + $0, encoding: .utf8) } ?? ""
        #expect(stored.contains("\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n\tby mx.example.test with ESMTPS id "), "\(stored)")
        #expect(harness.log.all.contains { $0.contains("to=<x@example.test> size=") && $0.contains(" tls=TLSv1.3 250 2.0.0 OK: queued") },
                "\(harness.log.all)")
    }

    @Test func onTheSMTPSPortTheSessionKnowsTLSBeforeTheGreeting() throws {
        let harness = try SMTPConnectionSessionTests.Harness(tls: .optional, implicit: Self.tls)
        #expect(harness.connection.takeText() == SMTPConnectionSessionTests.greeting)
        #expect(harness.log.all.first?.hasSuffix("TLS established: TLSv1.3 TLS_AES_256_GCM_SHA384") == true, "\(harness.log.all)")
        harness.send("EHLO c\r\nSTARTTLS\r\nNOOP\r\n")
        let text = harness.connection.takeText()
        #expect(!text.contains("STARTTLS") && text.hasSuffix("503 5.5.1 TLS already active\r\n250 2.0.0 OK\r\n"), "\(text)")
        #expect(harness.connection.startedTLS.isEmpty)
    }
}
