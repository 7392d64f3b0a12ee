import PropertyBased
import Testing
@testable import HTTPService

/// Split invariance: a generated conversation (requests, pipelined, with bodies fixed and
/// chunked, lines just under and over each limit, hostile chunk sizes, garbage), given
/// whole, a byte at a time, or cut at random points, gives the same requests and errors.
@Suite struct HTTPRequestParserSplitTests {
    /// Small limits, so that generated lines reach them often and cheaply.
    static let limits: HTTPParserLimits = {
        var limits = HTTPParserLimits()
        limits.maxRequestLine = 40
        limits.maxHeaderLine = 30
        limits.maxHead = 160
        limits.maxHeaders = 6
        limits.maxBody = 64
        return limits
    }()

    /// One part of a conversation, from a kind, a number and some random bytes.
    static func piece(_ kind: Int, _ n: Int, _ noise: [UInt8]) -> [UInt8] {
        let end = n % 3 == 0 ? "\n" : "\r\n"
        let nearLimit = n % 5 - 2
        let text: String
        switch kind {
        case 0:
            text = "GET /\(n) HTTP/1.\(n % 2)\(end)Host: h\(end)\(end)"
        case 1:
            return Array("GET /body HTTP/1.1\r\nHost: h\r\nContent-Length: \(noise.count)\r\n\r\n".utf8) + noise
        case 2:
            var body: [UInt8] = []
            for (i, part) in noise.chunked(by: 1 + n % 7).enumerated() {
                let size = String(part.count, radix: 16, uppercase: i % 2 == 0) + (i % 3 == 1 ? ";x=\(i)" : "")
                body += Array((size + end).utf8) + part + Array(end.utf8)
            }
            let trailer = n % 4 == 0 ? "T: v\(end)" : ""
            return Array("POST /chunked HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n".utf8) + body
                + Array("0\(end)\(trailer)\(end)".utf8)
        case 3:
            let path = String(repeating: "a", count: max(1, limits.maxRequestLine - 14 + nearLimit))
            text = "GET /\(path) HTTP/1.1\(end)Host: h\(end)\(end)"
        case 4:
            let value = String(repeating: "b", count: max(0, limits.maxHeaderLine - 3 + nearLimit))
            text = "GET / HTTP/1.1\(end)Host: h\(end)X: \(value)\(end)\(end)"
        case 5:
            let ext = String(repeating: "e", count: max(0, limits.maxHeaderLine - 2 + nearLimit))
            text = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;\(ext)\(end)z\(end)0\(end)\(end)"
        case 6:
            let sizes = ["-ff", "-5", "+5", "0x5", " 5", "5 5", "fffffffffffffffff", "7fffffffffffffff", "5", "05;"]
            text = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\(sizes[n % sizes.count])\(end)hello\(end)0\(end)\(end)"
        case 7:
            let fields = (0..<(limits.maxHeaders - 2 + n % 4)).map { "F\($0): \(String(repeating: "v", count: n % 20))\(end)" }.joined()
            text = "GET / HTTP/1.1\(end)Host: h\(end)\(fields)\(end)"
        case 8:
            text = "\(end)\(end)HEAD /\(n) HTTP/1.1\(end)Host: h\(end)Content-Length: \(["1, 1", "-1", "+1", "1,2", "0"][n % 5])\(end)\(end)"
        default:
            return noise
        }
        return Array(text.utf8)
    }

    static let conversation = zip(Gen.int(in: 0...9), Gen.int(in: 0...1000), Gen.uint8(in: 0...255).array(of: 0...24))
        .map { kind, n, noise in piece(kind, n, noise) }
        .array(of: 1...5)
        .map { $0.flatMap { $0 } }

    @Test func sameEventsWholeByteByByteAndCutAnywhere() async {
        await propertyCheck(count: 400, input: HTTPRequestParserSplitTests.conversation, Gen.int(in: 0...4096).array(of: 1...12)) { bytes, cuts in
            let limits = HTTPRequestParserSplitTests.limits
            let whole = parserEvents([bytes], limits: limits)
            #expect(parserEvents(bytes.map { [$0] }, limits: limits) == whole)
            #expect(parserEvents(split(bytes, at: cuts.map { $0 % (bytes.count + 1) }), limits: limits) == whole)
        }
    }

    /// The same at the real limits: lines a few bytes either side of 8 KiB, cut around
    /// their line end (where CR and LF can come apart) and at one random point.
    @Test func sameEventsAtTheDefaultLimits() async {
        await propertyCheck(count: 60, input: Gen.int(in: -3...3), Gen.int(in: 0...3), Gen.int(in: -1...2), Gen.int(in: 0...16_500)) {
            delta, kind, nearEnd, cut in
            let (prefix, line, suffix) = switch kind {
            case 0: ("", "GET /" + String(repeating: "a", count: 8178 + delta) + " HTTP/1.1", "\r\nHost: h\r\n\r\n")
            case 1: ("GET / HTTP/1.1\r\nHost: h\r\n", "X: " + String(repeating: "b", count: 8189 + delta), "\r\n\r\n")
            case 2: (HTTPRequestParserSplitTests.chunked, "1;" + String(repeating: "e", count: 8190 + delta), "\r\nz\r\n0\r\n\r\n")
            default: (HTTPRequestParserSplitTests.chunked + "0\r\n", "T: " + String(repeating: "t", count: 8189 + delta), "\r\n\r\n")
            }
            let bytes = Array((prefix + line + suffix + "GET /next HTTP/1.1\r\nHost: h\r\n\r\n").utf8)
            let lineEnd = prefix.utf8.count + line.utf8.count
            let whole = parserEvents([bytes])
            #expect(parserEvents(split(bytes, at: [lineEnd + nearEnd])) == whole)
            #expect(parserEvents(split(bytes, at: [lineEnd + nearEnd, cut])) == whole)
            #expect(whole.last?.isRequest == (line.utf8.count <= 8192))
        }
    }

    static let chunked = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
}

extension Array {
    /// Consecutive slices of at most `size` elements.
    func chunked(by size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
