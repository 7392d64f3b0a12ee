import Testing
@testable import HTTPService

/// The exact bytes that trapped or hung the server, and their neighbours: each gets its
/// error, and the parser ends (a `-5` chunk size once sent it backwards forever).
@Suite struct HostileRequestTests {
    static let chunkedHead = "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"

    /// Every event up to the first `.needMore` or error; a parser that loops fails the
    /// bound instead of hanging the test.
    func events(_ bytes: [UInt8], limits: HTTPParserLimits = HTTPParserLimits()) -> [HTTPRequestParser.Event] {
        var parser = HTTPRequestParser(limits: limits)
        parser.append(bytes)
        var events: [HTTPRequestParser.Event] = []
        for _ in 0..<1000 {
            let event = parser.next()
            events.append(event)
            if case .request = event { continue }
            return events
        }
        Issue.record("the parser did not settle")
        return events
    }

    func events(_ text: String, limits: HTTPParserLimits = HTTPParserLimits()) -> [HTTPRequestParser.Event] {
        events(Array(text.utf8), limits: limits)
    }

    @Test(arguments: ["-ff", "-5", "+5", " 5", "0x5", "5 5", "-0", "", "g", "٥",
                      "10000000000000000", "ffffffffffffffff", "8000000000000000"])
    func signedOrMalformedChunkSizeIs400(_ size: String) {
        let last = events(HostileRequestTests.chunkedHead + size + "\r\nhello\r\n0\r\n\r\n").last
        #expect(last == .error(.badRequest, "malformed chunk size"), "\(size.debugDescription)")
    }

    @Test func theTrappingChunkExactly() {
        let bytes = Array("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-ff\r\n".utf8)
        #expect(events(bytes).last == .error(.badRequest, "malformed chunk size"))
        let spinning = Array("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nabcde\r\n0\r\n\r\n".utf8)
        #expect(events(spinning).last == .error(.badRequest, "malformed chunk size"))
    }

    @Test(arguments: ["5", "5;ext", "5;a=b;c=\"d\"", "5 ;ext", "5\t;ext", "5 ", "0005", "5;"])
    func chunkSizesAndExtensionsAsBefore(_ line: String) {
        let text = HostileRequestTests.chunkedHead + line + "\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n"
        let targets = events(text).compactMap { event -> String? in
            if case .request(let head) = event { return head.target }
            return nil
        }
        #expect(targets == ["/upload", "/next"], "\(line.debugDescription)")
    }

    @Test func controlBytesInAChunkExtensionAre400() {
        #expect(events(HostileRequestTests.chunkedHead + "5;a\rb\r\nhello\r\n0\r\n\r\n").last
            == .error(.badRequest, "invalid byte in chunk extension"))
        #expect(events(HostileRequestTests.chunkedHead + "5;\u{0}\r\nhello\r\n0\r\n\r\n").last
            == .error(.badRequest, "invalid byte in chunk extension"))
    }

    @Test func chunkSizesAddUpAgainstTheBodyLimit() {
        var limits = HTTPParserLimits()
        limits.maxBody = 10
        #expect(events(HostileRequestTests.chunkedHead + "7fffffffffffffff\r\n", limits: limits).last
            == .error(.contentTooLarge, "request body too large"))
        #expect(events(HostileRequestTests.chunkedHead + "6\r\nabcdef\r\n5\r\n", limits: limits).last
            == .error(.contentTooLarge, "request body too large"))
        #expect(events(HostileRequestTests.chunkedHead + "6\r\nabcdef\r\n4\r\nabcd\r\n0\r\n\r\n", limits: limits).last == .needMore)
    }

    @Test func chunkDataMustEndInItsLineEnd() {
        #expect(events(HostileRequestTests.chunkedHead + "5\r\nhelloX\r\n").last == .error(.badRequest, "chunk not followed by CRLF"))
        #expect(events(HostileRequestTests.chunkedHead + "5\r\nhello\r\r\n").last == .error(.badRequest, "chunk not followed by CRLF"))
        #expect(events(HostileRequestTests.chunkedHead + "5\r\nhello\n0\n\n").last == .needMore)
    }

    @Test(arguments: ["+5", "-5", " 5x", "0x5", "5.0", "1e3", "٥", "99999999999999999999", "5, 6", "05, 5", "5,", ",5"])
    func strictContentLength(_ value: String) {
        #expect(events("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: \(value)\r\n\r\n").last
            == .error(.badRequest, "invalid or conflicting Content-Length"), "\(value.debugDescription)")
    }

    @Test func agreeingContentLengthsAreOneLength() {
        for head in ["Content-Length: 5, 5\r\n", "Content-Length: 5\r\nContent-Length: 5\r\n", "Content-Length: 5 ,5\r\n"] {
            let text = "GET /a HTTP/1.1\r\nHost: h\r\n\(head)\r\nhelloGET /b HTTP/1.1\r\nHost: h\r\n\r\n"
            #expect(events(text).count == 3, "\(head.debugDescription)")
        }
    }

    @Test(arguments: ["HTTP/+.1", "HTTP/1.+", "HTTP/-1.1", "HTTP/1.10", "HTTP/1.", "HTTP/11", "HTTP/1,1", "HTTP/a.1"])
    func versionDigitsAreDigits(_ version: String) {
        #expect(events("GET / \(version)\r\nHost: h\r\n\r\n").last == .error(.badRequest, "malformed HTTP version"))
    }

    /// The request line that was 414 when its CR and LF came in two reads and accepted in
    /// one: a line's limit is on its bytes without the line end, however they arrive.
    @Test(arguments: [8178, 8179])
    func requestLineLimitIgnoresTheReadBoundary(_ pathLength: Int) throws {
        let line = "GET /" + String(repeating: "a", count: pathLength) + " HTTP/1.1"
        let bytes = Array((line + "\r\nHost: h\r\n\r\n").utf8)
        let whole = parserEvents([bytes])
        if line.utf8.count <= 8192 {
            #expect(try #require(whole.first).isRequest)
        } else {
            #expect(whole == [.error(.uriTooLong, "request line too long")])
        }
        for cut in line.utf8.count...line.utf8.count + 2 {
            #expect(parserEvents(split(bytes, at: [cut])) == whole, "cut at \(cut)")
        }
    }

    @Test(arguments: [8189, 8190])
    func headerLineLimitIgnoresTheReadBoundary(_ valueLength: Int) {
        let field = "X: " + String(repeating: "b", count: valueLength)
        let head = "GET / HTTP/1.1\r\nHost: h\r\n"
        let bytes = Array((head + field + "\r\n\r\n").utf8)
        let whole = parserEvents([bytes])
        #expect(whole.count == 1)
        #expect(whole.first?.isRequest == (field.utf8.count <= 8192))
        for cut in head.utf8.count + field.utf8.count...head.utf8.count + field.utf8.count + 2 {
            #expect(parserEvents(split(bytes, at: [cut])) == whole, "cut at \(cut)")
        }
    }

    @Test(arguments: [8190, 8191])
    func chunkLineLimitIgnoresTheReadBoundary(_ extensionLength: Int) {
        let line = "5;" + String(repeating: "e", count: extensionLength)
        let bytes = Array((HostileRequestTests.chunkedHead + line + "\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n").utf8)
        let whole = parserEvents([bytes])
        #expect(whole.count == 2)
        #expect(whole.last?.isRequest == (line.utf8.count <= 8192))
        let end = HostileRequestTests.chunkedHead.utf8.count + line.utf8.count
        for cut in end...end + 2 {
            #expect(parserEvents(split(bytes, at: [cut])) == whole, "cut at \(cut)")
        }
    }
}

extension HTTPRequestParser.Event {
    var isRequest: Bool {
        if case .request = self { return true }
        return false
    }
}
