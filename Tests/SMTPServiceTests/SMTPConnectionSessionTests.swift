import Foundation
import Logging
import ServerCore
import Synchronization
import Testing
@testable import SMTPService

/// The SMTP handler (the driver running SMTPConnectionSession) on the socket-free test
/// double, with a real Maildir store in a temporary folder and deliveries on a real pool.
@Suite struct SMTPConnectionSessionTests {
    typealias Lines = CapturedLines

    /// One connection to a fresh store.
    final class Harness {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-session-\(UUID().uuidString)").path
        let log = Lines()
        let connection: TestConnection

        /// `tls`: STARTTLS with a made certificate; `implicit`: as on the SMTPS port, the
        /// connection playing a finished handshake from the start.
        init(pool: BlockingPool = BlockingPool(lanes: 1, capacity: 4), maxMessageSize: Int = 1000,
             tls: SMTPSession.TLSPolicy = .off, implicit: TLSInfo? = nil) throws {
            let store = try MaildirStore(data: data, hostname: "mx.example.test")
            let policy = SMTPSession.Policy(hostname: "mx.example.test", domains: ["example.test"], maxMessageSize: maxMessageSize, tls: tls)
            var config = SMTPConfiguration(policy: policy, store: store, logger: Logger(label: "test") { [log] _ in log },
                                           tls: tls == .off ? nil : try Harness.certificates())
            config.pool = pool
            let id = ConnectionID(local: SocketAddress(ip: IPAddress("127.0.0.1")!, port: 25),
                                  remote: SocketAddress(ip: IPAddress("192.0.2.7")!, port: 40000))
            connection = TestConnection(handler: config.handler(for: id, implicitTLS: implicit != nil), local: id.local, remote: id.remote)
            connection.tls = implicit
            connection.open()
        }

        static func certificates() throws -> TLSContextHolder {
            let (certificate, key) = try TLSSelfSigned.make(names: ["mx.example.test"], addresses: [])
            return try TLSContextHolder(certificates: [TLSCertificate(certificatePEM: certificate, keyPEM: key)],
                                        ticketKeys: TLSTicketKeys(), configuration: .init(alpn: SMTPConfiguration.alpn))
        }

        deinit { try? FileManager.default.removeItem(atPath: data) }

        func send(_ text: String) { #expect(connection.receive(Array(text.utf8)), "the connection takes \(text.prefix(20))") }

        /// Runs delivery completions until the connection closes or `seconds` pass with none.
        func settle(within seconds: Double = 5) {
            while connection.isOpen && connection.runPending(waitingUpTo: seconds) {}
        }

        /// The files of `user`'s `sub` folder (new, tmp), sorted.
        func files(_ user: String, _ sub: String = "new") -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: data + "/mail/example.test/\(user)/\(sub)")) ?? []).sorted()
        }

        var spooled: [String] { (try? FileManager.default.contentsOfDirectory(atPath: data + "/spool")) ?? [] }

        /// `user`'s messages in new/, each without the trace lines above it (which name the
        /// transaction and the time).
        func messages(_ user: String) -> [String] {
            files(user).compactMap { name in
                guard let text = try? String(contentsOfFile: data + "/mail/example.test/\(user)/new/" + name, encoding: .utf8),
                      let end = text.range(of: "+0000\r\n") else { return nil }
                return String(text[end.upperBound...])
            }
        }
    }

    static let greeting = "220 mx.example.test ESMTP appserver\r\n"
    static let transaction = "EHLO c\r\nMAIL FROM:<a@outside.test>\r\nRCPT TO:<x@example.test>\r\nDATA\r\n"
    static let body = "Subject: s\r\n\r\n..dot\r\nbare\nline\r\n.\r\n"

    /// Queue ids are random: one name for all of them.
    static func sameIDs(_ text: String) -> String {
        text.split(separator: "\r\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix("250 2.0.0 OK: queued as ") ? "250 2.0.0 OK: queued as ID" : String(line)
        }.joined(separator: "\r\n")
    }

    @Test func pipelinedCommandsToAPeerThatStopsReadingStayBoundedAndAllArrive() throws {
        let harness = try Harness()
        let connection = harness.connection
        #expect(connection.takeText() == SMTPConnectionSessionTests.greeting)
        connection.outputLimit = 200
        connection.peerReading = false
        harness.send("EHLO c\r\n" + String(repeating: "NOOP\r\n", count: 50) + "QUIT\r\n")
        let waiting = connection.pendingOutputBytes
        #expect(waiting >= 200 && waiting < 200 + 300, "stops at the limit plus one reply: \(waiting)")
        #expect(connection.isOpen)
        connection.peerReading = true
        let text = connection.takeText()
        #expect(text.hasPrefix("250-mx.example.test greets c\r\n"))
        #expect(text.hasSuffix(String(repeating: "250 2.0.0 OK\r\n", count: 50) + "221 2.0.0 Bye\r\n"), "\(text)")
        #expect(!connection.isOpen)
    }

    @Test func dataSplitAtEveryByteGivesOneIdenticalDelivery() throws {
        let stream = Array((SMTPConnectionSessionTests.transaction + SMTPConnectionSessionTests.body + "QUIT\r\n").utf8)
        func converse(_ pieces: [[UInt8]]) throws -> (replies: String, messages: [String]) {
            let harness = try Harness()
            for piece in pieces {
                #expect(harness.connection.receive(piece))
                harness.settle(within: 0)
            }
            harness.settle()
            #expect(harness.spooled.isEmpty)
            return (SMTPConnectionSessionTests.sameIDs(harness.connection.takeText()), harness.messages("x"))
        }
        let whole = try converse([stream])
        #expect(whole.messages == ["Subject: s\r\n\r\n.dot\r\nbare\r\nline\r\n"])
        #expect(whole.replies.hasSuffix("354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 OK: queued as ID\r\n221 2.0.0 Bye\r\n"), "\(whole.replies)")
        #expect(try converse(stream.map { [$0] }) == whole, "byte by byte")
        for cut in 1..<stream.count {
            #expect(try converse([Array(stream[..<cut]), Array(stream[cut...])]) == whole, "cut at \(cut)")
        }
    }

    @Test func aFailedDeliveryIs451AndLeavesNothingInNew() throws {
        let harness = try Harness()
        // y's Maildir cannot be made: a file is where its folder would be.
        try FileManager.default.createDirectory(atPath: harness.data + "/mail/example.test", withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: harness.data + "/mail/example.test/y", contents: Data()))
        harness.send("EHLO c\r\nMAIL FROM:<a@outside.test>\r\nRCPT TO:<x@example.test>\r\nRCPT TO:<y@example.test>\r\nDATA\r\n"
                     + SMTPConnectionSessionTests.body + "MAIL FROM:<b@outside.test>\r\n")
        #expect(harness.connection.runPending(waitingUpTo: 5), "the delivery completes")
        let text = harness.connection.takeText()
        #expect(text.hasSuffix("451 4.3.0 Local delivery failed, try again later\r\n250 2.1.0 Sender OK\r\n"), "\(text)")
        #expect(harness.connection.isOpen)
        #expect(harness.files("x").isEmpty && harness.files("x", "tmp").isEmpty, "all or nothing")
        #expect(harness.spooled.isEmpty)
        let logged = harness.log.all
        #expect(logged.contains { $0.hasPrefix("smtp 192.0.2.7:40000 -> 127.0.0.1:25 cannot create ") }, "\(logged)")
        let line = try #require(logged.first { $0.contains(" size=") }, "\(logged)")
        #expect(line.hasPrefix("smtp 192.0.2.7:40000 -> 127.0.0.1:25 from=<a@outside.test> to=<x@example.test>,<y@example.test> size=32 451 4.3.0 Local delivery failed, try again later "), "\(line)")
        #expect(line.hasSuffix("ms"), "\(line)")
    }

    @Test func aDrainDuringDataDeliversTheMessageThenSaysGoodbye() throws {
        let harness = try Harness()
        let connection = harness.connection
        harness.send(SMTPConnectionSessionTests.transaction + "Subject: s\r\n\r\nhalf")
        _ = connection.takeOutput()
        connection.drain()
        #expect(connection.isOpen)
        #expect(connection.takeText() == "", "the message in flight is finished first")
        harness.send(" done\r\n.\r\nNOOP\r\n")
        #expect(connection.runPending(waitingUpTo: 5), "the delivery completes")
        #expect(SMTPConnectionSessionTests.sameIDs(connection.takeText())
                == "250 2.0.0 OK: queued as ID\r\n421 4.3.2 Service shutting down, try again later\r\n")
        #expect(!connection.isOpen)
        #expect(harness.messages("x") == ["Subject: s\r\n\r\nhalf done\r\n"])
    }

    @Test func aDrainBetweenCommandsSaysGoodbyeAtOnce() throws {
        let harness = try Harness()
        harness.send("EHLO c\r\n")
        _ = harness.connection.takeOutput()
        harness.connection.drain()
        #expect(harness.connection.takeText() == "421 4.3.2 Service shutting down, try again later\r\n")
        #expect(!harness.connection.isOpen)
    }

    /// fuzz/regressions/smtp/mail-parameter-bare-equals: a parameter that is only '=' once trapped.
    @Test func aBareEqualsParameterIsRefusedAndTheConnectionGoesOn() throws {
        let harness = try Harness()
        _ = harness.connection.takeOutput()
        harness.send("EHLO c\r\nMAIL FROM:<>=\nMAIL FROM:<a@b> =\r\nNOOP\r\n")
        #expect(harness.connection.takeText().hasSuffix("555 5.5.4 Unsupported MAIL or RCPT parameter\r\n"
                                                        + "555 5.5.4 Unsupported MAIL or RCPT parameter\r\n250 2.0.0 OK\r\n"))
        #expect(harness.connection.isOpen)
        let refused = harness.log.all.filter { $0.contains(" refused ") }
        #expect(refused.count == 2)
        #expect(refused.first?.hasPrefix("smtp 192.0.2.7:40000 -> 127.0.0.1:25 refused \"MAIL FROM:<>=\" from=- 555 5.5.4 Unsupported MAIL or RCPT parameter") == true,
                "\(refused)")
    }

    @Test func aFullBlockingPoolGivesTheBusyReplyAndKeepsNoSpool() throws {
        let pool = BlockingPool(lanes: 1, capacity: 1)
        let gate = Mutex(false)
        #expect(pool.submit { while !gate.withLock({ $0 }) { usleep(1000) } })
        defer { gate.withLock { $0 = true } }
        let harness = try Harness(pool: pool)
        _ = harness.connection.takeOutput()
        harness.send(SMTPConnectionSessionTests.transaction + SMTPConnectionSessionTests.body + "NOOP\r\n")
        #expect(harness.connection.takeText().hasSuffix("354 End data with <CR><LF>.<CR><LF>\r\n421 4.3.2 System busy, try again later\r\n"))
        #expect(!harness.connection.isOpen)
        #expect(harness.spooled.isEmpty, "the unrun delivery's spool is removed")
        #expect(harness.files("x").isEmpty)
        #expect(harness.log.all.contains { $0.contains("busy: the blocking pool is full") })
    }

    @Test func anOversizedMessageIs552AndLogged() throws {
        let harness = try Harness(maxMessageSize: 10)
        _ = harness.connection.takeOutput()
        harness.send(SMTPConnectionSessionTests.transaction + SMTPConnectionSessionTests.body + "NOOP\r\n")
        #expect(harness.connection.takeText().hasSuffix("552 5.3.4 Message size exceeds fixed limit\r\n250 2.0.0 OK\r\n"))
        #expect(harness.spooled.isEmpty && harness.files("x").isEmpty)
        #expect(harness.log.all.contains { $0.contains("from=<a@outside.test> to=<x@example.test> size=32 552 5.3.4 ") }, "\(harness.log.all)")
    }

    @Test func aClientGoneMidDataLeavesNoSpoolAndALine() throws {
        let harness = try Harness()
        harness.send(SMTPConnectionSessionTests.transaction + "Subject: s\r\n")
        #expect(harness.spooled.count == 1)
        harness.connection.close()
        #expect(harness.spooled.isEmpty)
        #expect(harness.log.all.contains { $0.contains("from=<a@outside.test> to=<x@example.test> size=12 aborted: closed") }, "\(harness.log.all)")
    }
}
