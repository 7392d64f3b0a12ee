import Foundation
import Logging
import ServerCore
import Synchronization
import Testing
@testable import HTTPService

/// The HTTP handler (the driver running `HTTPSession`) on the socket-free `TestConnection`:
/// pipelining, a peer that stops reading, draining, timeouts, closes and gzip streaming.
@Suite struct HTTPSessionTests {
    typealias Lines = CapturedLines

    /// A site with `a.txt` (100 bytes) and `big.txt` (300 KiB of compressible text).
    final class Site {
        let root: String
        let small = [UInt8](repeating: 0x61, count: 100)
        let big = Array((0..<12_000).map { "line \($0) of the big file\n" }.joined().utf8)

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("appserver-session-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try Data(small).write(to: URL(fileURLWithPath: root + "/a.txt"))
            try Data(big).write(to: URL(fileURLWithPath: root + "/big.txt"))
        }

        deinit { try? FileManager.default.removeItem(atPath: root) }
    }

    let site: Site
    let lines = Lines()

    init() throws { site = try Site() }

    func connection(_ adjust: (inout HTTPConfiguration) -> Void = { _ in }) throws -> TestConnection {
        let lines = lines
        var config = HTTPConfiguration(files: try StaticFiles(root: site.root), logger: Logger(label: "test") { _ in lines })
        adjust(&config)
        let connection = TestConnection(handler: config.service.makeHandler(ConnectionID(
            local: SocketAddress(ip: .v4(UInt32(0x7F00_0001).bigEndian), port: 1000),
            remote: SocketAddress(ip: .v4(UInt32(0x7F00_0001).bigEndian), port: 40000))))
        connection.open()
        return connection
    }

    static func get(_ path: String, _ headers: String = "") -> [UInt8] {
        Array("GET \(path) HTTP/1.1\r\nHost: x\r\n\(headers)\r\n".utf8)
    }

    /// The status codes of the responses in `text`, in order.
    static func statuses(_ text: String) -> [Int] {
        text.components(separatedBy: "HTTP/1.1 ").dropFirst().compactMap { Int($0.prefix(3)) }
    }

    @Test func pipelinedRequestsAreAnsweredInOrderWithAccessLines() throws {
        let connection = try connection()
        connection.receive(Self.get("/a.txt") + Self.get("/missing") + Self.get("/a.txt"))
        let text = connection.takeText()
        #expect(Self.statuses(text) == [200, 404, 200])
        #expect(text.hasSuffix("\r\n\r\n" + String(decoding: site.small, as: UTF8.self)))
        #expect(connection.isOpen)
        let logged = lines.all
        #expect(logged.count == 3)
        #expect(logged.first?.hasPrefix("http 127.0.0.1:40000 -> 127.0.0.1:1000 \"GET /a.txt\" 200 100 ") == true)
        #expect(logged.first?.hasSuffix("ms") == true)
        #expect(logged.dropFirst().first?.contains("\"GET /missing\" 404 ") == true)
    }

    @Test func aPeerThatStopsReadingHoldsTheHighWaterMarkPlusOneAnswer() throws {
        let connection = try connection { $0.highWater = 1000 }
        connection.peerReading = false
        let count = 20
        connection.receive((0..<count).flatMap { _ in Self.get("/a.txt") })
        let answer = 100 + 300
        #expect(connection.pendingOutputBytes > 0)
        #expect(connection.pendingOutputBytes < 1000 + answer, "\(connection.pendingOutputBytes) bytes queued")
        connection.peerReading = true
        #expect(Self.statuses(connection.takeText()) == Array(repeating: 200, count: count))
        #expect(lines.all.count == count)
    }

    @Test func aBigFileIsSentByFileAfterItsHead() throws {
        let connection = try connection()
        connection.receive(Self.get("/big.txt"))
        let text = connection.takeText()
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(text.contains("\r\nContent-Length: \(site.big.count)\r\n"))
        #expect(text.hasSuffix("\r\n\r\n" + String(decoding: site.big, as: UTF8.self)))
    }

    /// Closed at once, an idle connection would race the client's next request (wrk's read
    /// errors at an upgrade): it waits a moment, and a request then is answered and closes it.
    @Test func drainGivesAnIdleConnectionAMomentForARequestOnItsWay() throws {
        let connection = try connection { $0.drainIdleTimeout = 0.5 }
        connection.receive(Self.get("/a.txt"))
        _ = connection.takeOutput()
        connection.drain()
        #expect(connection.isOpen)
        #expect(connection.idleTimeout == 0.5)
        connection.receive(Self.get("/a.txt"))
        let text = connection.takeText()
        #expect(Self.statuses(text) == [200])
        #expect(text.contains("\r\nConnection: close\r\n"))
        #expect(!connection.isOpen)
    }

    @Test func drainLetsAHeadInProgressFinishWithConnectionClose() throws {
        let connection = try connection()
        connection.receive(Array("GET /a.txt HTTP/1.1\r\n".utf8))
        connection.drain()
        #expect(connection.isOpen)
        connection.receive(Array("Host: x\r\n\r\n".utf8))
        let text = connection.takeText()
        #expect(Self.statuses(text) == [200])
        #expect(text.contains("\r\nConnection: close\r\n"))
        #expect(!connection.isOpen)
    }

    @Test func drainWhileOutputWaitsAnswersWhatIsBufferedThenCloses() throws {
        let connection = try connection { $0.highWater = 100 }
        connection.peerReading = false
        connection.receive(Self.get("/a.txt") + Self.get("/a.txt"))
        connection.drain()
        connection.peerReading = true
        let text = connection.takeText()
        #expect(Self.statuses(text) == [200, 200])
        #expect(text.components(separatedBy: "Connection: close").count == 2, "the answer after the drain says close")
        #expect(!connection.isOpen)
    }

    @Test func timeoutsAreTheHeadDeadlineThenKeepAlive() throws {
        let connection = try connection { $0.headerTimeout = 20; $0.keepAliveTimeout = 60 }
        #expect(connection.idleTimeout == 20, "a new connection has the head deadline")
        connection.receive(Self.get("/a.txt"))
        #expect(connection.idleTimeout == 60)
        connection.receive(Array("GET /a.txt".utf8))
        #expect(connection.idleTimeout == 20, "a head has begun")
        connection.receive(Array(" HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(connection.idleTimeout == 60)
    }

    @Test func connectionCloseAndHTTP10CloseAfterTheAnswer() throws {
        let closing = try connection()
        closing.receive(Self.get("/a.txt", "Connection: close\r\n") + Self.get("/a.txt"))
        #expect(Self.statuses(closing.takeText()) == [200], "nothing is answered after the close")
        #expect(!closing.isOpen)
        let old = try connection()
        old.receive(Array("GET /a.txt HTTP/1.0\r\n\r\n".utf8))
        #expect(old.takeText().contains("\r\nConnection: close\r\n"))
        #expect(!old.isOpen)
    }

    @Test func endOfInputAnswersWhatIsBufferedThenCloses() throws {
        let connection = try connection { $0.highWater = 100 }
        connection.peerReading = false
        connection.receive(Self.get("/a.txt") + Self.get("/a.txt") + Array("GET /a".utf8))
        connection.receiveEOF()
        #expect(connection.isOpen)
        connection.peerReading = true
        #expect(Self.statuses(connection.takeText()) == [200, 200])
        #expect(!connection.isOpen)
    }

    @Test func aMalformedRequestIs400ThenClose() throws {
        let connection = try connection()
        connection.receive(Array("GET / HTTP/1.1\r\nHost x\r\n\r\n".utf8) + Self.get("/a.txt"))
        let text = connection.takeText()
        #expect(Self.statuses(text) == [400])
        #expect(text.contains("\r\nConnection: close\r\n"))
        #expect(!connection.isOpen)
        #expect(lines.all.first?.contains("\"-\" 400 ") == true)
    }

    @Test func methodsOtherThanGetAndHead() throws {
        let connection = try connection()
        connection.receive(Array("POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcBREW /a.txt HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
                           + Array("HEAD /a.txt HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        let text = connection.takeText()
        #expect(Self.statuses(text) == [405, 501, 200])
        #expect(text.contains("\r\nAllow: GET, HEAD\r\n"))
        #expect(text.hasSuffix("\r\nContent-Length: 100\r\n\r\n"), "HEAD has no body")
    }

    /// Over the gzip cache's limit, a file is compressed while sent: one chunk per step, so
    /// a peer that stops reading holds the stream at the high-water mark, and the rest, then
    /// the next request's answer, come once it reads.
    @Test func aGzipStreamWaitsForThePeerBetweenChunks() throws {
        let connection = try connection {
            $0.gzipCache = GzipCache(fileLimit: 0)
            $0.highWater = 1
        }
        connection.peerReading = false
        connection.receive(Self.get("/big.txt", "Accept-Encoding: gzip\r\n") + Self.get("/a.txt"))
        let held = connection.pendingOutputBytes
        #expect(held > 0 && held < 64 * 1024 + 512, "the head and one chunk at most: \(held)")
        connection.peerReading = true
        let output = connection.takeOutput()
        let text = String(decoding: output, as: UTF8.self)
        #expect(Self.statuses(text) == [200, 200])
        #expect(text.contains("\r\nTransfer-Encoding: chunked\r\n"))
        #expect(text.contains("\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n"))
        let bodyStart = try #require(text.range(of: "\r\n\r\n")).upperBound.utf16Offset(in: text)
        #expect(GzipStreamTests().inflate(Self.unchunk(Array(output[bodyStart...]))) == site.big)
        #expect(lines.all.first?.contains("\"GET /big.txt\" 200 ") == true)
    }

    @Test func aCachedGzipEncodingHasALength() throws {
        let connection = try connection()
        connection.receive(Self.get("/big.txt", "Accept-Encoding: gzip\r\n"))
        let text = connection.takeText()
        #expect(text.contains("\r\nContent-Encoding: gzip\r\n"))
        #expect(text.contains("\r\nContent-Length: "))
        #expect(!text.contains("chunked"))
    }

    /// The body of a chunked message, its chunks joined (up to the last chunk).
    static func unchunk(_ bytes: [UInt8]) -> [UInt8] {
        var body: [UInt8] = []
        var at = 0
        while let lineEnd = bytes[at...].firstIndex(of: 0x0D),
              let size = Int(String(decoding: bytes[at..<lineEnd], as: UTF8.self), radix: 16), size > 0,
              lineEnd + 2 + size <= bytes.count {
            body += bytes[(lineEnd + 2)..<(lineEnd + 2 + size)]
            at = lineEnd + 2 + size + 2
        }
        return body
    }
}
