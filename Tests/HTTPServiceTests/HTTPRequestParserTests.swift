import Testing
@testable import HTTPService

@Suite struct HTTPRequestParserTests {
    func parseAll(_ text: String, limits: HTTPParserLimits = HTTPParserLimits()) -> [HTTPRequestParser.Event] {
        parseAll(Array(text.utf8), limits: limits)
    }

    func parseAll(_ bytes: [UInt8], limits: HTTPParserLimits = HTTPParserLimits()) -> [HTTPRequestParser.Event] {
        var parser = HTTPRequestParser(limits: limits)
        parser.append(bytes)
        var events: [HTTPRequestParser.Event] = []
        while true {
            let event = parser.next()
            events.append(event)
            if case .request = event { continue }
            return events
        }
    }

    /// The request an event carries, for `try #require`.
    func request(_ event: HTTPRequestParser.Event?) -> HTTPRequestHead? {
        guard case .request(let head)? = event else { return nil }
        return head
    }

    func status(_ text: String) -> HTTPStatus? {
        guard case .error(let status, _)? = parseAll(text).last else { return nil }
        return status
    }

    @Test func simpleGet() throws {
        let events = parseAll("GET /index.html?x=1 HTTP/1.1\r\nHost: example\r\nAccept-Encoding: gzip\r\n\r\n")
        let head = try #require(request(events.first))
        #expect(head.method == "GET")
        #expect(head.target == "/index.html?x=1")
        #expect(head.path == "/index.html")
        #expect(head.minorVersion == 1)
        #expect(head.header("host") == "example")
        #expect(head.header("accept-encoding") == "gzip")
        #expect(head.keepAlive)
        #expect(events[1] == .needMore)
    }

    @Test func sameResultWhenSplitAtEveryByte() {
        let text = Array("GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.0\r\n\r\n".utf8)
        var parser = HTTPRequestParser()
        var targets: [String] = []
        for byte in text {
            parser.append([byte])
            while case .request(let head) = parser.next() { targets.append(head.target) }
        }
        #expect(targets == ["/a", "/b"])
        #expect(!parser.isMidRequest)
    }

    @Test func pipelinedRequestsInOrder() {
        let events = parseAll("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        let targets = events.compactMap { event -> String? in
            if case .request(let head) = event { return head.target }
            return nil
        }
        #expect(targets == ["/1", "/2", "/3"])
    }

    @Test func bodyOfGetIsSkippedInStep() throws {
        let events = parseAll("GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789GET /b HTTP/1.1\r\nHost: h\r\n\r\n")
        try #require(events.count == 3)
        #expect(request(events[1])?.target == "/b")
    }

    @Test func chunkedBodyIsSkippedInStep() {
        let text = "GET /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"
        let events = parseAll(text)
        #expect(events.dropFirst().first.flatMap(request)?.target == "/b", "second request lost: \(events)")
    }

    @Test func http10DefaultsToClose() throws {
        let head = try #require(request(parseAll("GET / HTTP/1.0\r\n\r\n").first))
        #expect(!head.keepAlive)
        let kept = try #require(request(parseAll("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").first))
        #expect(kept.keepAlive)
        let closed = try #require(request(parseAll("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").first))
        #expect(!closed.keepAlive)
    }

    @Test func bareLFLinesAndLeadingBlankLinesAreAccepted() throws {
        let head = try #require(request(parseAll("\r\n\nGET / HTTP/1.1\nHost: h\n\n").first))
        #expect(head.header("host") == "h")
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\n\r\n", HTTPStatus.badRequest),  // no Host
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", .badRequest),
        ("GET / HTTP/2.0\r\nHost: h\r\n\r\n", .versionNotSupported),
        ("GET / HTTP/0.9\r\nHost: h\r\n\r\n", .versionNotSupported),
        ("GET / HTTP/1.1x\r\nHost: h\r\n\r\n", .badRequest),
        ("GET / http/1.1\r\nHost: h\r\n\r\n", .badRequest),
        ("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", .badRequest),
        ("GET /\u{1} HTTP/1.1\r\nHost: h\r\n\r\n", .badRequest),
        ("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n folded\r\n\r\n", .badRequest),
        ("GET / HTTP/1.1\r\nHost : h\r\n\r\n", .badRequest),
        ("GET / HTTP/1.1\r\nHost: h\r\nBad\r\n\r\n", .badRequest),
        ("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", .badRequest),
        ("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", .badRequest),
        ("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 2\r\n\r\n", .badRequest),
        ("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", .badRequest),
        ("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", .badRequest),
        ("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", .notImplemented),
        ("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", .badRequest),
        ("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999\r\n\r\n", .contentTooLarge),
        ("G@T / HTTP/1.1\r\nHost: h\r\n\r\n", .badRequest),
    ])
    func refusals(_ text: String, _ expected: HTTPStatus) {
        #expect(status(text) == expected)
    }

    @Test func tlsClientHelloIsRefusedOnSight() {
        let hello: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03]
        #expect(parseAll(hello).last == .error(.badRequest, "invalid byte in method"))
    }

    @Test func longRequestLineIs414() {
        let long = "GET /" + String(repeating: "a", count: 9000)
        #expect(status(long) == .uriTooLong)
        #expect(status(long + " HTTP/1.1\r\nHost: h\r\n\r\n") == .uriTooLong)
    }

    @Test func largeHeadersAre431() {
        #expect(status("GET / HTTP/1.1\r\nHost: h\r\nX: " + String(repeating: "b", count: 9000)) == .headersTooLarge)
        let many = (0..<101).map { "X-\($0): v\r\n" }.joined()
        #expect(status("GET / HTTP/1.1\r\nHost: h\r\n" + many + "\r\n") == .headersTooLarge)
        let wide = (0..<40).map { "X-\($0): " + String(repeating: "c", count: 1000) + "\r\n" }.joined()
        #expect(status("GET / HTTP/1.1\r\nHost: h\r\n" + wide + "\r\n") == .headersTooLarge)
    }

    @Test func errorsAreFinal() {
        var parser = HTTPRequestParser()
        parser.append(Array("BAD\u{0}\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n".utf8))
        let first = parser.next()
        #expect(first == .error(.badRequest, "invalid byte in method"))
        #expect(parser.next() == first)
    }

    @Test func absoluteFormTargetGivesPath() throws {
        let head = try #require(request(parseAll("GET http://example.com/a/b?q HTTP/1.1\r\nHost: example.com\r\n\r\n").first))
        #expect(head.path == "/a/b")
        let star = try #require(request(parseAll("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").first))
        #expect(star.path == nil)
    }
}
