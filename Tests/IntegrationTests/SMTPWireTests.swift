import Foundation
import Glibc
import Testing

/// Byte-exact SMTP conversations: pipelining, limits, garbage, vanishing clients, load.
@Suite struct SMTPWireTests {
    @Test func pipelinedTransactionGetsEveryReplyInOrder() throws {
        let server = try TestSMTPServer()
        let replies = try server.converse("EHLO raw.test\r\nMAIL FROM:<a@outside.test>\r\nRCPT TO:<x@example.test>\r\nRCPT TO:<y@nowhere.test>\r\n"
            + "RCPT TO:<z@example.test>\r\nDATA\r\nSubject: pipelined\r\n\r\nbody\r\n.\r\nMAIL FROM:<b@outside.test>\r\nRCPT TO:<x@example.test>\r\n"
            + "DATA\r\nSubject: second\r\n\r\n.\r\nQUIT\r\n")
        let codes = replies.split(separator: "\r\n").filter { !$0.hasPrefix("250-") }.map { $0.prefix(3) }
        #expect(codes == ["250", "250", "250", "554", "250", "354", "250", "250", "250", "354", "250", "221"])
        #expect(server.messages("x").count == 2)
        #expect(server.messages("z").count == 1)
    }

    @Test func oversizedBodyIsRefusedAfterTheDotAndNothingStored() throws {
        let server = try TestSMTPServer(maxMessageSize: 10_000)
        let body = String(repeating: "0123456789abcdef\r\n", count: 2000)
        let replies = try server.converse("EHLO c\r\nMAIL FROM:<a@outside.test> SIZE=20000\r\nMAIL FROM:<a@outside.test>\r\n"
            + "RCPT TO:<big@example.test>\r\nDATA\r\n\(body).\r\nNOOP\r\nQUIT\r\n")
        #expect(replies.contains("552 5.3.4 Message size exceeds fixed limit\r\n250 2.1.0"))
        #expect(replies.contains("354 End data with <CR><LF>.<CR><LF>\r\n552 5.3.4 Message size exceeds fixed limit\r\n250 2.0.0 OK\r\n221"))
        #expect(server.allFiles.isEmpty)
    }

    @Test func smugglingAttemptStaysInsideTheMessage() throws {
        let server = try TestSMTPServer()
        let replies = try server.converse("EHLO c\r\nMAIL FROM:<a@outside.test>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\n"
            + "Subject: one\r\n\r\nhello\n.\nMAIL FROM:<forged@outside.test>\nRCPT TO:<victim@example.test>\nDATA\nSubject: forged\n\r\n.\r\nQUIT\r\n")
        #expect(replies.components(separatedBy: "354 ").count == 2)
        let messages = server.messages("victim")
        #expect(messages.count == 1)
        #expect(messages.first?.contains("Subject: forged") == true)
    }

    @Test func longLinesGarbageAndTooManyErrors() throws {
        let server = try TestSMTPServer()
        let long = try server.converse("EHLO c\r\nNOOP " + String(repeating: "x", count: 600) + "\r\nNOOP\r\nQUIT\r\n")
        #expect(long.contains("500 5.5.2 Line too long\r\n250 2.0.0 OK\r\n221"))
        let garbage = try server.converse(String(repeating: "\u{1}\u{2}garbage\r\n", count: 25))
        #expect(garbage.contains("421 4.7.0 Too many errors"))
        #expect(garbage.components(separatedBy: "\r\n").filter { $0.hasPrefix("500") }.count == 19)
        let binary = try RawClient(port: server.port)
        binary.send(patternBytes(4096))
        binary.hangUp()
        #expect(try server.converse("QUIT\r\n").hasPrefix("221"))
    }

    @Test func aClientThatDoesNotReadRepliesIsNotReadEither() throws {
        let server = try TestSMTPServer()
        let client = try RawClient(port: server.port)
        _ = client.read(atLeast: 5)
        _ = fcntl(client.fd, F_SETFL, fcntl(client.fd, F_GETFL) | O_NONBLOCK)
        let chunk = Array(String(repeating: "NOOP\r\n", count: 10_000).utf8)
        var written = 0
        var stalledSince: Date?
        // Write until the server stops taking input for a second; it must, long before 256 MiB.
        while written < 256 * 1024 * 1024 {
            let n = chunk.withUnsafeBytes { send(client.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                written += n
                stalledSince = nil
            } else if let since = stalledSince {
                if Date().timeIntervalSince(since) > 1 { break }
                Thread.sleep(forTimeInterval: 0.05)
            } else {
                stalledSince = Date()
            }
        }
        #expect(written < 64 * 1024 * 1024, "the server kept reading: \(written) bytes")
        #expect(try server.converse("QUIT\r\n").hasPrefix("221"))
    }

    @Test func clientVanishingMidDataLeavesNothing() throws {
        let server = try TestSMTPServer()
        let client = try RawClient(port: server.port)
        _ = client.read(atLeast: 5)
        client.send("EHLO c\r\nMAIL FROM:<a@outside.test>\r\nRCPT TO:<gone@example.test>\r\nDATA\r\nSubject: half\r\n\r\n" + String(repeating: "x", count: 100_000))
        var replies = ""
        #expect(pollUntil {
            replies += String(decoding: client.read(atLeast: 1), as: UTF8.self)
            return replies.contains("354 ")
        }, "no 354: \(replies)")
        // The message was being spooled when the client went.
        #expect(server.allFiles.count == 1)
        client.hangUp()
        #expect(pollUntil { server.allFiles.isEmpty }, "left: \(server.allFiles)")
    }

    @Test func connectionsPerAddressAreCapped() throws {
        let server = try TestSMTPServer(maxConnectionsPerAddress: 2)
        let first = try RawClient(port: server.port), second = try RawClient(port: server.port)
        #expect(String(decoding: first.read(atLeast: 5), as: UTF8.self).hasPrefix("220"))
        #expect(String(decoding: second.read(atLeast: 5), as: UTF8.self).hasPrefix("220"))
        let third = try RawClient(port: server.port)
        #expect(String(decoding: third.readAll(), as: UTF8.self).hasPrefix("421 4.3.2"))
        #expect(server.log.line(containing: "refused: too many connections from this address") != nil, "\(server.log.all)")
        first.hangUp()
        #expect(try pollUntil { try server.converse("QUIT\r\n").hasPrefix("221") })
    }

    /// The line that trapped the process (a bare `=` as an ESMTP parameter, before any EHLO):
    /// a 5xx, and the server answers the next connection.
    @Test func theBareEqualsLineGetsA5xxAndTheServerLivesOn() throws {
        let server = try TestSMTPServer()
        let replies = try server.converse("MAIL FROM:<a@b> =\r\nEHLO c\r\nMAIL FROM:<a@b> =\r\nRCPT TO:<x@example.test> =\r\nQUIT\r\n")
        let codes = replies.split(separator: "\r\n").filter { !$0.hasPrefix("250-") }.map { String($0.prefix(9)) }
        #expect(codes == ["503 5.5.1", "250 HELP", "555 5.5.4", "503 5.5.1", "221 2.0.0"])
        #expect(try server.converse("NOOP\r\nQUIT\r\n").contains("250 2.0.0 OK\r\n221 "))
    }

    /// Pipelined commands from a client that does not read: replies stop once 1 MiB waits,
    /// whatever one read held (64 KiB of HELP lines asks for over 1 MB of replies), and all
    /// of them come once the client reads.
    @Test func repliesToPipelinedCommandsAreBoundedPerAnswer() throws {
        let server = try TestSMTPServer()
        let client = try RawClient(port: server.port)
        _ = client.read(atLeast: 5)
        let count = 60_000
        client.sendInBackground(Array((String(repeating: "HELP\r\n", count: count) + "QUIT\r\n").utf8))
        #expect(pollUntil(within: 20) { server.outputPeak.bytes >= 1024 * 1024 }, "the server never filled its output: \(server.outputPeak.bytes)")
        let replies = String(decoding: client.readAll(), as: UTF8.self)
        #expect(server.outputPeak.bytes < 1024 * 1024 + 512, "\(server.outputPeak.bytes) bytes waited")
        #expect(replies.components(separatedBy: "214 2.0.0 Mail is accepted for local domains only\r\n").count == count + 1)
        #expect(replies.hasSuffix("221 2.0.0 Bye\r\n"))
    }

    /// All or nothing: bob's Maildir cannot be written, so alice gets no copy either and the
    /// client 451; the retry, once bob's Maildir is fixed, gives each exactly one.
    @Test func aFailedRecipientMeansNoCopyAndARetryNoDuplicate() throws {
        let server = try TestSMTPServer()
        try server.data.write("mail/example.test/bob/tmp", "not a folder")
        let transaction = "EHLO c\r\nMAIL FROM:<a@outside.test>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\n"
            + "DATA\r\nSubject: once\r\n\r\nbody\r\n.\r\nQUIT\r\n"
        #expect(try server.converse(transaction).contains("354 End data with <CR><LF>.<CR><LF>\r\n451 4.3.0 "))
        #expect(server.messages("alice").isEmpty)
        #expect(server.allFiles == [server.data.path + "/mail/example.test/bob/tmp"])
        try FileManager.default.removeItem(atPath: server.data.path + "/mail/example.test/bob/tmp")
        #expect(try server.converse(transaction).contains("\r\n250 2.0.0 OK: queued as "))
        #expect(server.messages("alice").count == 1)
        #expect(server.messages("bob").count == 1)
    }

    @Test func fiftyConcurrentSendersAllStored() throws {
        let server = try TestSMTPServer()
        let failures = LockedData()
        let port = server.port
        DispatchQueue.concurrentPerform(iterations: 50) { index in
            do {
                let client = try RawClient(port: port)
                _ = client.read(atLeast: 5)
                client.send("EHLO c\(index)\r\nMAIL FROM:<s\(index)@outside.test>\r\nRCPT TO:<inbox@example.test>\r\nDATA\r\n"
                    + "Subject: message \(index)\r\n\r\n" + String(repeating: "payload \(index)\r\n", count: 500) + ".\r\nQUIT\r\n")
                let replies = String(decoding: client.readAll(), as: UTF8.self)
                if !replies.contains("250 2.0.0 OK: queued as") { failures.set(Data("sender \(index): \(replies)".utf8)) }
            } catch {
                failures.set(Data("sender \(index): \(error)".utf8))
            }
        }
        #expect(failures.get().isEmpty, "\(String(decoding: failures.get(), as: UTF8.self))")
        let messages = server.messages("inbox")
        #expect(messages.count == 50)
        for index in 0..<50 {
            let matching = messages.filter { $0.contains("Subject: message \(index)\r\n") }
            #expect(matching.count == 1)
            #expect(matching.first?.components(separatedBy: "payload \(index)\r\n").count == 501)
        }
    }

    /// An idle session hears why it is closed, as Postfix says it (RFC 5321 4.5.3.2).
    @Test func idleSessionGets421BeforeTheClose() throws {
        let server = try TestSMTPServer(idleTimeout: 1)
        let client = try RawClient(port: server.port)
        #expect(String(decoding: client.read(atLeast: 4), as: UTF8.self).hasPrefix("220 "))
        let rest = String(decoding: client.readAll(), as: UTF8.self)
        #expect(rest.hasPrefix("421 4.4.2 "))
    }

}
