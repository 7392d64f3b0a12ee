import Foundation
import ServerCore
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
        #expect(RawResponse.parseAll(client.read(atLeast: 100)).first?.status == 200)
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
        client.send("GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        Thread.sleep(forTimeInterval: 3.5)
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
        Thread.sleep(forTimeInterval: 0.3)
        #expect(try server.exchange("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").first?.status == 200)
    }

    @Test func slowReaderGetsEverythingIntact() throws {
        let server = try TestHTTPServer()
        let bytes = patternBytes(8 * 1024 * 1024, seed: 9)
        try server.write("big.bin", bytes)
        let client = try RawClient(port: server.port)
        client.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
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
}
