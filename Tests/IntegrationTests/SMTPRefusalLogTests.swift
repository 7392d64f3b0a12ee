import Foundation
import Testing

/// Refused commands leave one line each, with the 4-tuple and the reply; wire text in any
/// line is escaped.
@Suite struct SMTPRefusalLogTests {
    @Test func relayAndBadRecipientsAreLogged() throws {
        let server = try TestSMTPServer()
        let replies = try server.converse("EHLO c\r\nMAIL FROM:<a@outside.test>\r\nRCPT TO:<x@elsewhere.test>\r\n"
            + "RCPT TO:<a$b@example.test>\r\nRCPT TO:<nobody>\r\nQUIT\r\n")
        #expect(replies.contains("554 5.7.1") && replies.contains("553 5.1.3") && replies.contains("501 5.1.3"))
        let relay = try #require(server.log.line(containing: "554"), "\(server.log.all)")
        #expect(relay.hasPrefix("smtp 127.0.0.1:"), "\(relay)")
        #expect(relay.contains("-> 127.0.0.1:\(server.port) refused \"RCPT TO:<x@elsewhere.test>\" from=<a@outside.test> 554 5.7.1 Relay access denied"), "\(relay)")
        #expect(server.log.line(containing: "refused \"RCPT TO:<a$b@example.test>\" from=<a@outside.test> 553 5.1.3") != nil, "\(server.log.all)")
        #expect(server.log.line(containing: "refused \"RCPT TO:<nobody>\" from=<a@outside.test> 501 5.1.3") != nil, "\(server.log.all)")
        #expect(server.log.all.count == 3, "one line per refusal, nothing for the accepted commands: \(server.log.all)")
    }

    @Test func refusedSenderAndSequenceAndSecretsAreLogged() throws {
        let server = try TestSMTPServer()
        _ = try server.converse("MAIL FROM:<a@outside.test>\r\nEHLO c\r\nMAIL FROM:<bad>\r\nAUTH PLAIN c2VjcmV0\r\nQUIT\r\n")
        #expect(server.log.line(containing: "refused \"MAIL FROM:<a@outside.test>\" from=- 503 5.5.1") != nil, "\(server.log.all)")
        #expect(server.log.line(containing: "refused \"MAIL FROM:<bad>\" from=- 501 5.1.3") != nil, "\(server.log.all)")
        #expect(server.log.line(containing: "refused \"AUTH\" from=- 502 5.5.1") != nil, "\(server.log.all)")
        #expect(!server.log.all.contains { $0.contains("c2VjcmV0") }, "an AUTH argument is not logged")
    }

    @Test func aQuoteAndALineEndInAnAddressAreEscaped() throws {
        let server = try TestSMTPServer()
        // A CR alone stays inside the line; an LF ends it, so the rest is a line of its own.
        _ = try server.converse("EHLO c\r\nMAIL FROM:<\"a\\\"b\"@outside.test>\r\nRCPT TO:<\"x\r\"@elsewhere.test>\r\n"
            + "RCPT TO:<\"y\n\" 250 forged\"@example.test>\r\nRCPT TO:<x@example.test>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n")
        let bad = try #require(server.log.line(containing: "x\\x0D"), "\(server.log.all)")
        #expect(bad.contains("refused \"RCPT TO:<\\x22x\\x0D\\x22@elsewhere.test>\" from=<\\x22a\\x5C\\x22b\\x22@outside.test> 501"), "\(bad)")
        for line in server.log.all {
            #expect(!line.contains("\n") && !line.contains("\r") && !line.dropFirst(5).contains("\" 250"), "\(line)")
        }
        #expect(server.log.line(containing: "refused \"\\x22 250 forged\\x22@example.test>\" ") != nil, "\(server.log.all)")
        #expect(server.log.line(containing: "from=<\\x22a\\x5C\\x22b\\x22@outside.test> to=<x@example.test> size=4 250 ") != nil,
                "the transaction line: \(server.log.all)")
    }

    @Test func tooManyErrorsIsLoggedWithTheClose() throws {
        let server = try TestSMTPServer()
        _ = try server.converse(String(repeating: "BOGUS\r\n", count: 25))
        #expect(server.log.line(containing: "refused \"BOGUS\" from=- 421 4.7.0") != nil, "\(server.log.all)")
        #expect(server.log.all.count == 20, "\(server.log.all.count) lines")
    }
}
