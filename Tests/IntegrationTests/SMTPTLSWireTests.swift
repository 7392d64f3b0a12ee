import Foundation
import Glibc
import ServerCore
import Testing

/// STARTTLS byte by byte, as no real client sends it: commands pipelined behind STARTTLS in
/// the same packet (the CVE-2011-0411 injection), STARTTLS twice, a handshake never finished.
@Suite(.enabled(if: Tools.hasOpenSSL, "openssl is not installed"))
struct SMTPTLSWireTests {
    /// Plaintext from the socket `fd` up to and including `suffix`, read one byte at a time
    /// so that nothing after it (the TLS handshake) is taken; less on a close or the timeout.
    static func readPlain(_ fd: Int32, through suffix: String) -> String {
        let end = Array(suffix.utf8)
        var text: [UInt8] = []
        var byte: UInt8 = 0
        while !text.ends(with: end), recv(fd, &byte, 1, 0) == 1 {
            text.append(byte)
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// A client past EHLO in plaintext, which then sends `afterEHLO` in one packet.
    static func plaintextClient(_ server: TestSMTPServer, sending afterEHLO: String) throws -> TLSTestClient {
        let client = try TLSTestClient(port: server.port, serverName: "localhost", trusting: server.cacert)
        #expect(readPlain(client.fd, through: "\r\n").hasPrefix("220 mx.example.test ESMTP"))
        client.sendRaw(Array("EHLO c\r\n".utf8))
        #expect(readPlain(client.fd, through: "250 HELP\r\n").contains("250-STARTTLS\r\n"))
        client.sendRaw(Array(afterEHLO.utf8))
        return client
    }

    /// A reply read over TLS, through its last line (`250 ` after `250-` lines).
    static func reply(_ client: TLSTestClient, to command: String) -> String {
        #expect(client.write(command + "\r\n"))
        var text: [UInt8] = []
        while !isWholeReply(text) {
            let more = client.read(atLeast: 1)
            if more.isEmpty { break }
            text += more
        }
        return String(decoding: text, as: UTF8.self)
    }

    static func isWholeReply(_ text: [UInt8]) -> Bool {
        guard text.ends(with: [0x0D, 0x0A]) else { return false }
        let lastLine = text.dropLast(2).split(separator: 0x0A, omittingEmptySubsequences: false).last ?? []
        return lastLine.count >= 4 && lastLine.dropFirst(3).first == 0x20
    }

    @Test func commandsPipelinedBehindStartTLSAreNeverExecuted() throws {
        let server = try TestSMTPServer(tls: .optional)
        let injected = "MAIL FROM:<evil@outside.test>\r\nRCPT TO:<victim@example.test>\r\n"
        let client = try Self.plaintextClient(server, sending: "STARTTLS\r\n" + injected)
        #expect(Self.readPlain(client.fd, through: "\r\n") == "220 2.0.0 Ready to start TLS\r\n")
        // A plaintext reply to the injected lines would sit before the ServerHello and break this.
        try client.handshake()
        #expect(Self.reply(client, to: "RCPT TO:<victim@example.test>") == "503 5.5.1 Need MAIL command\r\n", "the injected MAIL was dropped")
        #expect(Self.reply(client, to: "MAIL FROM:<a@outside.test>") == "503 5.5.1 Send EHLO or HELO first\r\n", "the session was reset")
        let ehlo = Self.reply(client, to: "EHLO c")
        #expect(ehlo.hasPrefix("250-mx.example.test greets c\r\n") && !ehlo.contains("STARTTLS"), "\(ehlo)")
        #expect(Self.reply(client, to: "STARTTLS") == "503 5.5.1 TLS already active\r\n")
        #expect(Self.reply(client, to: "QUIT") == "221 2.0.0 Bye\r\n")
        #expect(server.log.line(containing: "discarded \(injected.utf8.count) bytes sent in plaintext after STARTTLS") != nil, "\(server.log.all)")
        #expect(!server.log.all.contains { $0.contains("evil@outside.test") })
    }

    @Test func startTLSWithAnArgumentIsRefusedAndTheSessionGoesOn() throws {
        let server = try TestSMTPServer(tls: .optional)
        let client = try Self.plaintextClient(server, sending: "STARTTLS now\r\nNOOP\r\n")
        #expect(Self.readPlain(client.fd, through: "250 2.0.0 OK\r\n") == "501 5.5.4 Syntax error in parameters or arguments\r\n250 2.0.0 OK\r\n")
    }

    /// ALPACA: an HTTPS client sent to the mail port is refused; MTAs offer no ALPN.
    @Test func onTheSMTPSPortALPNOfferingOnlyOtherProtocolsIsRefused() throws {
        let server = try TestSMTPServer(tls: .optional)
        let port = try #require(server.smtpsPort)
        #expect(throws: (any Error).self) { try TLSTestClient(port: port, alpn: ["h2", "http/1.1"]).handshake() }
        let none = try TLSTestClient(port: port, serverName: "localhost", trusting: server.cacert)
        try none.handshake()
        #expect(String(decoding: none.read(atLeast: 5), as: UTF8.self).hasPrefix("220 mx.example.test ESMTP"))
        let smtp = try TLSTestClient(port: port, alpn: ["smtp"])
        try smtp.handshake()
        #expect(smtp.info.alpn == "smtp")
    }

    /// One client stops after STARTTLS's 220 (a ClientHello begun, never ended); another is
    /// served meanwhile; the first is closed at the handshake deadline.
    @Test func aHandshakeNeverFinishedIsClosedAtItsDeadlineWhileOthersAreServed() throws {
        let server = try TestSMTPServer(tls: .optional, handshakeTimeout: 1)
        let stalled = try RawClient(port: server.port)
        #expect(Self.readPlain(stalled.fd, through: "\r\n").hasPrefix("220 "))
        stalled.send("EHLO c\r\nSTARTTLS\r\n")
        #expect(Self.readPlain(stalled.fd, through: "220 2.0.0 Ready to start TLS\r\n").hasSuffix("250 HELP\r\n220 2.0.0 Ready to start TLS\r\n"))
        stalled.send([0x16, 0x03, 0x01, 0x00])
        let started = Date()

        let other = try Self.plaintextClient(server, sending: "STARTTLS\r\n")
        #expect(Self.readPlain(other.fd, through: "\r\n") == "220 2.0.0 Ready to start TLS\r\n")
        try other.handshake()
        #expect(Self.reply(other, to: "EHLO c").hasSuffix("250 HELP\r\n"))
        #expect(Self.reply(other, to: "MAIL FROM:<a@outside.test>") == "250 2.1.0 Sender OK\r\n")
        #expect(Self.reply(other, to: "RCPT TO:<served@example.test>") == "250 2.1.5 Recipient OK\r\n")
        #expect(Self.reply(other, to: "DATA").hasPrefix("354 "))
        #expect(Self.reply(other, to: "Subject: meanwhile\r\n\r\nhi\r\n.").hasPrefix("250 2.0.0 OK: queued as "))
        #expect(server.messages("served").count == 1)

        #expect(stalled.readAll().isEmpty, "closed without a word: a TLS client could not read a plaintext one")
        let waited = Date().timeIntervalSince(started)
        #expect(waited < 5, "closed after \(waited) s, the deadline is 1 s")
    }
}
