import Glibc
import ServerCore
import Testing

/// The TLS layer on real loopback sockets: handshakes, output larger than the socket
/// buffer, a peer that stops reading, STARTTLS, the handshake deadline, hostile first bytes.
@Suite struct TLSConnectionTests {
    @Test func handshakeThenEchoWithTheSessionReported() throws {
        let handler = LineHandler()
        let server = try TLSTestServer(tls: try TLSFixtures.holder(alpn: ["http/1.1"])) { handler }
        let client = try TLSTestClient(port: server.port, alpn: ["http/1.1"])
        try client.handshake()
        #expect(client.write("echo hello\n"))
        #expect(client.read(atLeast: 6) == Array("hello\n".utf8))
        #expect(client.info.version == "TLSv1.3")
        #expect(client.info.alpn == "http/1.1")
        let seen = try #require(handler.info.withLock { $0 })
        #expect(seen.version == "TLSv1.3" && seen.alpn == "http/1.1" && !seen.resumed)
        #expect(handler.lines == [.init(line: "echo hello", tls: true)])
    }

    /// More records in one segment than a turn reads: OpenSSL reads them all ahead, and the
    /// ones left in it are read without the socket signalling again.
    @Test func recordsReadAheadPastATurnAreAllAnswered() throws {
        let handler = LineHandler()
        let server = try TLSTestServer(tls: try TLSFixtures.holder()) { handler }
        let client = try TLSTestClient(port: server.port)
        try client.handshake()
        #expect(client.writeRecords((1...20).map { "echo \($0)\n" }))
        let expected = (1...20).map { "\($0)\n" }.joined()
        #expect(client.read(atLeast: expected.utf8.count) == Array(expected.utf8))
    }

    @Test(arguments: [false, true]) func outputLargerThanTheSocketBuffer(kernelTLS: Bool) throws {
        let folder = TLSFixtures.folder()
        defer { TLSFixtures.remove(folder) }
        let size = 3 * 1024 * 1024 + 17
        #expect(LocalFiles.write(pattern(size), to: folder + "/body"))
        let file = FileDescriptor(open(folder + "/body", O_RDONLY))
        let server = try TLSTestServer(tls: try TLSFixtures.holder(kernelTLS: kernelTLS)) { LineHandler(file: file) }
        let client = try TLSTestClient(port: server.port)
        try client.handshake()
        // Pipelined: both answers asked for before either is read.
        #expect(client.write("big 5000000\nfile \(size)\necho end\n"))
        let expected = pattern(5_000_000) + pattern(size) + Array("end\n".utf8)
        #expect(client.read(atLeast: expected.count) == expected)
    }

    @Test func aPeerThatStopsReadingHoldsOnlyItself() throws {
        let server = try TLSTestServer(tls: try TLSFixtures.holder()) { LineHandler() }
        let stalled = try TLSTestClient(port: server.port)
        try stalled.handshake()
        #expect(stalled.write("big 8000000\n"))
        // While it reads nothing, another connection is served at once.
        let other = try TLSTestClient(port: server.port)
        try other.handshake()
        #expect(other.write("echo still here\n"))
        #expect(other.read(atLeast: 11) == Array("still here\n".utf8))
        usleep(200_000)
        #expect(stalled.read(atLeast: 8_000_000) == pattern(8_000_000))
    }

    @Test func startTLSDropsPlaintextSentAfterTheCommand() throws {
        let holder = try TLSFixtures.holder()
        let handler = LineHandler(startTLS: holder)
        let server = try TLSTestServer(tls: nil) { handler }
        let client = try TLSTestClient(port: server.port)
        client.sendRaw(Array("echo plain\nstarttls\necho injected\n".utf8))
        var reply: [UInt8] = []
        var byte: UInt8 = 0
        while reply.count < 9, recv(client.fd, &byte, 1, 0) == 1 { reply.append(byte) }
        #expect(reply == Array("plain\ngo\n".utf8))
        try client.handshake()
        #expect(client.write("echo secret\n"))
        #expect(client.read(atLeast: 7) == Array("secret\n".utf8))
        #expect(handler.lines == [.init(line: "echo plain", tls: false), .init(line: "starttls", tls: false), .init(line: "echo secret", tls: true)])
        #expect(handler.dropped.withLock { $0 } == ["14 bytes"])
    }

    @Test func theTestDoubleRecordsStartTLS() throws {
        let holder = try TLSFixtures.holder()
        let handler = LineHandler(startTLS: holder)
        let connection = TestConnection(handler: handler)
        connection.open()
        connection.receive(Array("starttls\necho injected\n".utf8))
        #expect(connection.startedTLS.count == 1 && connection.startedTLS.first === holder.current)
        #expect(connection.takeText() == "go\n")
        #expect(handler.lines.map(\.line) == ["starttls"])
    }

    @Test func plaintextAfterStartTLSIsNeverReadAsCommands() throws {
        let holder = try TLSFixtures.holder()
        let handler = LineHandler(startTLS: holder)
        let server = try TLSTestServer(tls: nil) { handler }
        let client = try TLSTestClient(port: server.port)
        client.sendRaw(Array("starttls\n".utf8))
        var reply = [UInt8](repeating: 0, count: 3)
        #expect(recv(client.fd, &reply, 3, Int32(MSG_WAITALL)) == 3)
        // A second packet, before any ClientHello: it is taken as the handshake, which fails.
        client.sendRaw(Array("echo injected\n".utf8))
        #expect(recv(client.fd, &reply, 3, 0) <= 0)
        #expect(handler.lines.map(\.line) == ["starttls"])
    }

    @Test func aSilentOrTruncatedHandshakeMeetsTheDeadline() throws {
        var limits = ConnectionLimits()
        limits.handshakeTimeout = 1
        let server = try TLSTestServer(tls: try TLSFixtures.holder(), limits: limits) { LineHandler() }
        let silent = try TLSTestClient(port: server.port)
        let truncated = try TLSTestClient(port: server.port)
        truncated.sendRaw([22, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3])
        let started = time(nil)
        var byte: UInt8 = 0
        #expect(recv(silent.fd, &byte, 1, 0) <= 0)
        #expect(recv(truncated.fd, &byte, 1, 0) <= 0)
        #expect(time(nil) - started <= 4)
        #expect(eventually { server.registry.connectionCount == 0 })
    }

    @Test func garbageClosesAndPlaintextGetsTheReply() throws {
        let reply = Array("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\nplain HTTP on a TLS port\n".utf8)
        let server = try TLSTestServer(tls: try TLSFixtures.holder(), plaintextReply: reply) { LineHandler() }
        let garbage = try TLSTestClient(port: server.port)
        garbage.sendRaw([0, 1, 2, 3, 4, 5, 6, 7])
        var byte: UInt8 = 0
        #expect(recv(garbage.fd, &byte, 1, 0) <= 0)
        let plain = try TLSTestClient(port: server.port)
        plain.sendRaw(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        var answer = [UInt8](repeating: 0, count: 4096)
        var got: [UInt8] = []
        while true {
            let n = recv(plain.fd, &answer, answer.count, 0)
            if n <= 0 { break }
            got += answer[0..<n]
        }
        #expect(got == reply)
        let good = try TLSTestClient(port: server.port)
        try good.handshake()
        #expect(good.write("echo fine\n") && good.read(atLeast: 5) == Array("fine\n".utf8))
    }
}
