import Foundation
import HTTPService
import Logging
import ServerCore
import Synchronization
import Testing

/// Byte-exact conversations: pipelining, garbage, traversal, limits and timeouts.
@Suite struct HTTPWireTests {
    @Test func pipelinedRequestsAnsweredInOrder() throws {
        let server = try TestHTTPServer()
        try server.write("a.txt", "AAA")
        try server.write("b.txt", "BB")
        let client = try RawClient(port: server.port)
        client.send("GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\nGET /b.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbodyHEAD /a.txt HTTP/1.1\r\nHost: t\r\n\r\nGET /missing HTTP/1.1\r\nHost: t\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        let bytes = client.readAll()
        // HEAD has a Content-Length but no body: split it by hand.
        let text = String(decoding: bytes, as: UTF8.self)
        let statuses = text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { $0.prefix(3) }
        #expect(statuses == ["200", "200", "200", "404", "200"])
        #expect(text.contains("\r\n\r\nAAAHTTP/1.1 200"))
        #expect(text.contains("\r\n\r\nBBHTTP/1.1 200"))
        #expect(text.hasSuffix("\r\n\r\nAAA"))
    }

    @Test func garbageThenStillServing() throws {
        let server = try TestHTTPServer()
        let hello = try RawClient(port: server.port)
        hello.send([0x16, 0x03, 0x01, 0x00, 0xA5, 0x01, 0x00, 0x00, 0xA1, 0x03, 0x03] + patternBytes(160))
        let answer = RawResponse.parseAll(hello.readAll())
        #expect(answer.first?.status == 400)
        for junk in ["\u{0}\u{1}\u{2}\r\n\r\n", "GET\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\n folded: y\r\n\r\n",
                     "GET / FOO/1.1\r\nHost: x\r\n\r\n", "GET / HTTP/3.0\r\nHost: x\r\n\r\n",
                     "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"] {
            let responses = try server.exchange(junk)
            #expect(responses.count == 1, "\(junk.debugDescription)")
            #expect([400, 505].contains(responses.first?.status ?? 0), "\(junk.debugDescription)")
            #expect(responses.first?.headers["connection"] == "close")
        }
        let half = try RawClient(port: server.port)
        half.send("GET / HT")
        half.hangUp()
        let ok = try server.exchange("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(ok.first?.status == 200)
    }

    @Test func missingHostAndOversizedRequests() throws {
        let server = try TestHTTPServer()
        #expect(try server.exchange("GET / HTTP/1.1\r\n\r\n").first?.status == 400)
        #expect(try server.exchange("GET / HTTP/1.0\r\n\r\n").first?.status == 200)
        #expect(try server.exchange("GET /\(String(repeating: "x", count: 9000)) HTTP/1.1\r\nHost: x\r\n\r\n").first?.status == 414)
        let cookies = (0..<50).map { "Cookie-\($0): \(String(repeating: "c", count: 1000))\r\n" }.joined()
        #expect(try server.exchange("GET / HTTP/1.1\r\nHost: x\r\n\(cookies)\r\n").first?.status == 431)
    }

    @Test func traversalAndDotfilesNeverLeak() throws {
        let server = try TestHTTPServer()
        try server.base.write("secret.txt", "top secret")
        try server.write(".env", "PASSWORD=x")
        try server.write(".git/config", "[core]")
        symlink(server.base.path + "/secret.txt", server.www + "/link.txt")
        symlink(server.base.path, server.www + "/up")
        let paths = ["/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/..%5csecret.txt", "/%5c..%5csecret.txt",
                     "/..\\secret.txt", "/./../secret.txt", "//../secret.txt", "/link.txt", "/up/secret.txt", "/.env",
                     "/%2eenv", "/.git/config", "/index.html%00.txt", "/%252e%252e/secret.txt", "http://x/../secret.txt"]
        for path in paths {
            let response = try server.exchange("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").first
            #expect([400, 404].contains(response?.status ?? 0), "\(path) answered \(response?.status ?? 0)")
            let body = String(decoding: response?.body ?? [], as: UTF8.self)
            #expect(!body.contains("secret"), "\(path) leaked")
        }
    }

    @Test func headerTimeoutClosesSlowloris() throws {
        let server = try TestHTTPServer { $0.headerTimeout = 1 }
        let client = try RawClient(port: server.port)
        let started = Date()
        client.send("GET / HTTP/1.1\r\nHost: x\r\n")
        // Dribbling more header lines does not extend the deadline.
        for _ in 0..<3 {
            Thread.sleep(forTimeInterval: 0.3)
            client.send("X-Slow: 1\r\n")
        }
        #expect(client.isClosedByPeer())
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func idleKeepAliveTimesOut() throws {
        let server = try TestHTTPServer { $0.keepAliveTimeout = 1 }
        let client = try RawClient(port: server.port)
        client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        // The whole response first, so that what the close check reads is the close.
        var response = client.read(atLeast: 1)
        while !response.isEmpty && !String(decoding: response, as: UTF8.self).hasSuffix("<h1>hello</h1>\n") {
            let more = client.read(atLeast: 1)
            if more.isEmpty { break }
            response += more
        }
        #expect(RawResponse.parseAll(response).first?.status == 200)
        let started = Date()
        #expect(client.isClosedByPeer())
        #expect(Date().timeIntervalSince(started) < 5)
    }

    /// A client that asks for a large file and never reads is dropped after the write
    /// timeout, whether the socket refused more or the connection's send budget paused it.
    @Test func aReaderThatStopsIsDroppedAfterTheWriteTimeout() throws {
        let server = try TestHTTPServer(limits: ConnectionLimits(writeTimeout: 1))
        try server.write("huge.bin", patternBytes(64 * 1024 * 1024))
        let client = try RawClient(port: server.port)
        let started = Date()
        client.send("GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        try #require(HTTPWireTests.waitUntil(seconds: 10) { server.registry.connectionCount == 1 }, "never connected")
        #expect(HTTPWireTests.waitUntil(seconds: 10) { server.registry.connectionCount == 0 }, "the stalled reader was kept")
        #expect(Date().timeIntervalSince(started) >= 1)
        let received = client.readAll()
        #expect(received.count > 0 && received.count < 64 * 1024 * 1024)
    }

    @Test func overCapacityGets503() throws {
        let server = try TestHTTPServer(limits: ConnectionLimits(maxConnections: 1))
        let first = try RawClient(port: server.port)
        first.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(RawResponse.parseAll(first.read(atLeast: 100)).first?.status == 200)
        let second = try server.exchange("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(second.first?.status == 503)
        first.hangUp()
        #expect(HTTPWireTests.waitUntil(seconds: 10) { server.registry.connectionCount == 0 })
        #expect(try server.exchange("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").first?.status == 200)
    }

    @Test func slowReaderGetsEverythingIntact() throws {
        let server = try TestHTTPServer()
        let bytes = patternBytes(8 * 1024 * 1024, seed: 9)
        try server.write("big.bin", bytes)
        let client = try RawClient(port: server.port)
        client.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        // The pause is the slow reader under test (the server meets a full socket), not a
        // wait for a state.
        Thread.sleep(forTimeInterval: 1)
        let responses = RawResponse.parseAll(client.readAll())
        #expect(responses.map(\.status) == [200, 200])
        #expect(responses.first?.body == bytes)
    }

    @Test func gzipStreamIsChunkedAndEndsCleanly() throws {
        let server = try TestHTTPServer()
        try server.write("big.txt", String(repeating: "0123456789abcdef\n", count: 100_000))
        let client = try RawClient(port: server.port)
        client.send("GET /big.txt HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\nGET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let text = String(decoding: client.readAll(), as: UTF8.self)
        #expect(text.contains("Transfer-Encoding: chunked"))
        #expect(text.contains("\r\n0\r\n\r\nHTTP/1.1 200 OK"))
        #expect(text.hasSuffix("<h1>hello</h1>\n"))
    }

    /// The bytes that trapped the whole process (`-ff`) or spun a worker forever (`-5`):
    /// the request before the body is answered, the body gets 400 and a close, and the
    /// server goes on serving.
    @Test(arguments: ["-ff", "-5"])
    func signedChunkSizeIs400AndTheServerGoesOn(_ size: String) throws {
        let server = try TestHTTPServer()
        let responses = try server.exchange("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\(size)\r\nhello\r\n0\r\n\r\n")
        #expect(responses.map(\.status) == [200, 400])
        #expect(responses.last?.headers["connection"] == "close")
        #expect(try server.exchange("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").first?.status == 200)
    }

    /// A client that pipelines many requests and reads nothing: the server answers one at a
    /// time while its output queue is under the high-water mark, so what it holds is that
    /// mark plus one answer, not one answer per request; once the client reads, every
    /// answer comes, in order and intact.
    @Test(arguments: [20 * 1024, 3 * 1024 * 1024])
    func pipelinedAnswersWaitForAReaderThatStopped(fileSize: Int) throws {
        let site = try TemporaryFolder("appserver-www")
        let body = patternBytes(fileSize, seed: 5)
        try site.write("www/file.bin", body)
        let config = HTTPConfiguration(files: try StaticFiles(root: site.path + "/www"),
                                       logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let http = config.service
        let peak = OutputPeak()
        let registry = try ListenerRegistry(workers: 1)
        defer { registry.shutdown(grace: 0) {} }
        let probed = TCPService(busyReply: http.busyReply) { OutputProbe(http.makeHandler($0), peak) }
        let port = try registry.addTCP(SocketAddress(ip: IPAddress("127.0.0.1")!, port: 0), service: probed).port
        registry.start()

        let count = 32
        let client = try RawClient(port: port)
        client.send(String(repeating: "GET /file.bin HTTP/1.1\r\nHost: x\r\n\r\n", count: count - 1)
                    + "GET /file.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(HTTPWireTests.waitUntil(seconds: 10) { peak.value >= fileSize }, "nothing was answered")
        let responses = RawResponse.parseAll(client.readAll())
        #expect(responses.count == count)
        #expect(responses.allSatisfy { $0.status == 200 && $0.body == body })
        let bound = config.highWater + fileSize + 1024
        #expect(peak.value < bound, "\(peak.value) bytes queued for one peer, bound \(bound)")
    }

    /// Polls `condition` until it holds or `seconds` have passed; whether it held.
    static func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            if Date() >= deadline { return false }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return true
    }

    /// The most output a connection ever had queued when a handler call returned.
    final class OutputPeak: Sendable {
        private let peak = Mutex(0)
        var value: Int { peak.withLock { $0 } }
        func record(_ connection: any ConnectionContext) { peak.withLock { $0 = max($0, connection.pendingOutputBytes) } }
    }

    /// The HTTP handler, with the output queue measured after each of its calls (before the
    /// connection sends what it queued, so at its largest).
    final class OutputProbe: ConnectionHandler {
        let inner: any ConnectionHandler
        let peak: OutputPeak

        init(_ inner: any ConnectionHandler, _ peak: OutputPeak) {
            self.inner = inner
            self.peak = peak
        }

        func connectionOpened(_ connection: any ConnectionContext) {
            inner.connectionOpened(connection)
            peak.record(connection)
        }

        func connection(_ connection: any ConnectionContext, received bytes: UnsafeRawBufferPointer) {
            inner.connection(connection, received: bytes)
            peak.record(connection)
        }

        func connectionReceivedEOF(_ connection: any ConnectionContext) {
            inner.connectionReceivedEOF(connection)
            peak.record(connection)
        }

        func connectionWritable(_ connection: any ConnectionContext) {
            inner.connectionWritable(connection)
            peak.record(connection)
        }

        func connectionShouldDrain(_ connection: any ConnectionContext) {
            inner.connectionShouldDrain(connection)
            peak.record(connection)
        }

        func connectionClosed(_ connection: any ConnectionContext, reason: CloseReason) {
            inner.connectionClosed(connection, reason: reason)
        }
    }
}
