import Testing
@testable import SMTPService

@Suite struct SMTPSessionTests {
    func session(maxRecipients: Int = 100, maxErrors: Int = 20) -> SMTPSession {
        SMTPSession(policy: .init(hostname: "mx.example.test", domains: ["Example.TEST", "other.test"], maxMessageSize: 1000,
                                  maxRecipients: maxRecipients, maxErrors: maxErrors))
    }

    /// Feeds lines and returns each reply's code and enhanced code, as "250 2.1.0".
    func run(_ lines: [String], on session: inout SMTPSession) -> [String] {
        lines.flatMap { line in
            session.handle(Array(line.utf8)).compactMap { action -> String? in
                switch action {
                case .reply(let reply): return reply.enhanced.map { "\(reply.code) \($0)" } ?? "\(reply.code)"
                case .receiveData: return "DATA"
                case .close: return "CLOSE"
                case .startTLS: return "TLS"
                }
            }
        }
    }

    func run(_ lines: [String]) -> [String] {
        var s = session()
        return run(lines, on: &s)
    }

    @Test func aWholeTransaction() {
        var s = session()
        #expect(run(["EHLO client.test", "MAIL FROM:<a@b.test> SIZE=100 BODY=8BITMIME", "RCPT TO:<User@Example.test>", "DATA"], on: &s)
                == ["250", "250 2.1.0", "250 2.1.5", "354", "DATA"])
        #expect(s.envelope == .init(sender: "a@b.test", recipients: [MailAddress(path: "<User@Example.test>")!]))
        #expect(s.extended)
        s.transactionEnded()
        #expect(s.envelope == nil)
        #expect(run(["QUIT"], on: &s) == ["221 2.0.0", "CLOSE"])
    }

    @Test func ehloAdvertisesExtensions() {
        var s = session()
        guard case .reply(let reply) = s.handle(Array("EHLO c".utf8)).first else { Issue.record("no reply"); return }
        #expect(reply.lines == ["mx.example.test greets c", "SIZE 1000", "PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", "HELP"])
        #expect(String(decoding: reply.bytes, as: UTF8.self).hasPrefix("250-mx.example.test greets c\r\n250-SIZE 1000\r\n"))
        #expect(String(decoding: reply.bytes, as: UTF8.self).hasSuffix("250 HELP\r\n"))
    }

    @Test func sequenceIsCheckedFirst() {
        #expect(run(["MAIL FROM:<a@b.test>"]) == ["503 5.5.1"])
        #expect(run(["HELO c", "RCPT TO:<x@example.test>"]) == ["250", "503 5.5.1"])
        #expect(run(["HELO c", "DATA"]) == ["250", "503 5.5.1"])
        #expect(run(["HELO c", "MAIL FROM:<a@b.test>", "DATA"]) == ["250", "250 2.1.0", "503 5.5.1"])
        #expect(run(["HELO c", "MAIL FROM:<a@b.test>", "MAIL FROM:<a@b.test>"]) == ["250", "250 2.1.0", "503 5.5.1"])
        #expect(run(["HELO c", "MAIL FROM:<a@b.test>", "RSET", "RCPT TO:<x@example.test>"]) == ["250", "250 2.1.0", "250 2.0.0", "503 5.5.1"])
    }

    @Test func relayIsRefusedPerRecipient() {
        var s = session()
        #expect(run(["EHLO c", "MAIL FROM:<a@b.test>", "RCPT TO:<x@elsewhere.test>", "RCPT TO:<y@other.test>", "RCPT TO:<z@sub.example.test>"], on: &s)
                == ["250", "250 2.1.0", "554 5.7.1", "250 2.1.5", "554 5.7.1"])
        #expect(s.envelope?.recipients.map(\.description) == ["y@other.test"])
    }

    @Test func addressesAndParameters() {
        #expect(run(["EHLO c", "MAIL FROM:<>", "RCPT TO:<postmaster>"]) == ["250", "250 2.1.0", "250 2.1.5"])
        #expect(run(["EHLO c", "MAIL FROM: <a@b.test>"]) == ["250", "250 2.1.0"])
        #expect(run(["EHLO c", "MAIL FROM:a@b.test"]) == ["250", "501 5.5.4"])
        #expect(run(["EHLO c", "MAIL TO:<a@b.test>"]) == ["250", "501 5.5.4"])
        #expect(run(["EHLO c", "MAIL FROM:<a@b.test> SIZE=1001"]) == ["250", "552 5.3.4"])
        #expect(run(["EHLO c", "MAIL FROM:<a@b.test> SIZE=x"]) == ["250", "501 5.5.4"])
        #expect(run(["EHLO c", "MAIL FROM:<a@b.test> BODY=BINARYMIME"]) == ["250", "555 5.5.4"])
        #expect(run(["EHLO c", "MAIL FROM:<a@b.test> SMTPUTF8"]) == ["250", "250 2.1.0"])
        #expect(run(["EHLO c", "MAIL FROM:<a@b.test>", "RCPT TO:<x@example.test> NOTIFY=NEVER"]) == ["250", "250 2.1.0", "555 5.5.4"])
        #expect(run(["EHLO c", "MAIL FROM:<@relay.test:a@b.test>"]) == ["250", "250 2.1.0"])
        #expect(run(["EHLO c", "MAIL FROM:<a@@b>"]) == ["250", "501 5.1.3"])
    }

    /// README: only letters, digits and `. _ + - =` reach the file system; a local part that
    /// is a valid address but not a safe folder name is `553 5.1.3`, one that is not even
    /// valid address syntax `501 5.1.3` (as Postfix answers bad recipient syntax).
    @Test(arguments: [("<../x@example.test>", "501 5.1.3"), ("<a/b@example.test>", "553 5.1.3"), ("<\"a b\"@example.test>", "553 5.1.3"),
                      ("<.hidden@example.test>", "501 5.1.3"), ("<x\u{0}@example.test>", "501 5.1.3"), ("<a..b@example.test>", "501 5.1.3"),
                      ("<a!b@example.test>", "553 5.1.3"), ("<\"..\"@example.test>", "553 5.1.3")])
    func unsafeMailboxesNeverReachTheDisk(_ path: String, _ expected: String) {
        var s = session()
        #expect(run(["EHLO c", "MAIL FROM:<a@b.test>", "RCPT TO:\(path)"], on: &s) == ["250", "250 2.1.0", expected], "\(path)")
        #expect(s.envelope?.recipients == [])
    }

    /// The bytes that trapped the process (an empty split indexed at 0), and their relatives:
    /// each gets its reply and the session goes on.
    @Test(arguments: [
        ("MAIL FROM:<a@b> =", "555 5.5.4"), ("MAIL FROM:<a@b> ==", "555 5.5.4"), ("MAIL FROM:<a@b> =x", "555 5.5.4"),
        ("MAIL FROM:<a@b>=", "555 5.5.4"), ("MAIL FROM:<a@b> SIZE=", "501 5.5.4"), ("MAIL FROM:<a@b> SIZE", "555 5.5.4"),
        ("MAIL FROM:<a@b> SIZE=+5", "501 5.5.4"), ("MAIL FROM:<a@b> SIZE=-1", "501 5.5.4"), ("MAIL FROM:<a@b> SIZE=0x10", "501 5.5.4"),
        ("MAIL FROM:<a@b> SIZE=99999999999999999999999", "501 5.5.4"), ("MAIL FROM:<a@b> SIZE=1=2", "501 5.5.4"),
        ("MAIL FROM:<a@b> SIZE=10", "250 2.1.0"), ("MAIL FROM:<a@b> size=10 smtputf8", "250 2.1.0"), ("MAIL FROM:<a@b> BODY=", "555 5.5.4"),
        ("MAIL FROM:<a@b> \u{0}=\u{0}", "555 5.5.4"), ("MAIL FROM:<a@b> =", "555 5.5.4"), ("MAIL FROM:<>=", "555 5.5.4"),
        ("MAIL FROM:<a@b>  SIZE=1  BODY=7BIT ", "250 2.1.0"), ("MAIL FROM:", "501 5.5.4"), ("MAIL", "501 5.5.4"), ("MAIL FRO", "501 5.5.4"),
        ("MAIL FROM:<", "501 5.5.4"), ("MAIL FROM:>", "501 5.5.4"), ("MAIL FRßM:<a@b>", "501 5.5.4"), ("MAIL ﬀROM:<a@b>", "501 5.5.4"),
    ])
    func hostileMailParameters(_ line: String, _ expected: String) {
        #expect(run(["EHLO c", line, "NOOP"]) == ["250", expected, "250 2.0.0"], "\(line.debugDescription)")
    }

    @Test func theTrapLineBeforeEHLO() {
        #expect(SMTPCommand(line: Array("MAIL FROM:<a@b> =".utf8)) == .mail(path: "<a@b>", parameters: [("", "")]))
        #expect(run(["MAIL FROM:<a@b> =", "RCPT TO:<a@b> =", "EHLO c"]) == ["503 5.5.1", "503 5.5.1", "250"])
        #expect(run(["EHLO c", "MAIL FROM:<a@b.test>", "RCPT TO:<x@example.test> ="]) == ["250", "250 2.1.0", "555 5.5.4"])
    }

    @Test func recipientLimit() {
        var s = session(maxRecipients: 2)
        #expect(run(["EHLO c", "MAIL FROM:<a@b.test>", "RCPT TO:<x@example.test>", "RCPT TO:<y@example.test>", "RCPT TO:<z@example.test>", "RCPT TO:<X@example.test>"], on: &s)
                == ["250", "250 2.1.0", "250 2.1.5", "250 2.1.5", "452 4.5.3", "452 4.5.3"])
    }

    @Test func duplicateRecipientsAreDeliveredOnce() {
        var s = session()
        _ = run(["EHLO c", "MAIL FROM:<a@b.test>", "RCPT TO:<x@example.test>", "RCPT TO:<X@EXAMPLE.test>"], on: &s)
        #expect(s.envelope?.recipients.count == 1)
    }

    @Test func otherCommands() {
        #expect(run(["NOOP", "VRFY someone", "VRFY", "HELP", "STARTTLS", "AUTH PLAIN x", "BOGUS", "EHLO", "HELO"])
                == ["250 2.0.0", "252 2.5.2", "501 5.5.4", "214 2.0.0", "502 5.5.1", "502 5.5.1", "500 5.5.1", "501 5.5.4", "501 5.5.4"])
        #expect(run(["ehlo lower", "mail from:<a@b.test>", "rcpt to:<x@example.test>", "data"]) == ["250", "250 2.1.0", "250 2.1.5", "354", "DATA"])
        #expect(run(["EHLO c", "MAIL FROM:<a@b.test>", "RCPT TO:<x@example.test>", "DATA now"]) == ["250", "250 2.1.0", "250 2.1.5", "501 5.5.4"])
    }

    @Test func tooManyErrorsCloses() {
        var s = session(maxErrors: 3)
        #expect(run(["X", "Y", "Z", "NOOP"], on: &s) == ["500 5.5.1", "500 5.5.1", "421 4.7.0", "CLOSE", "250 2.0.0"])
        var t = session(maxErrors: 2)
        #expect(t.lineTooLong().count == 1)
        #expect(t.lineTooLong().last == .close)
    }

    @Test func ehloNameIsCleanedForTheTraceHeader() {
        var s = session()
        _ = s.handle(Array("EHLO evil\u{1}name\u{7f}".utf8))
        #expect(s.clientName == "evilname")
    }
}
