import ServerCore
/// Limits on what a request may send before it is refused (nginx's defaults, roughly).
public struct HTTPParserLimits: Sendable {
    public var maxRequestLine = 8 * 1024
    public var maxHeaderLine = 8 * 1024
    public var maxHead = 32 * 1024
    public var maxHeaders = 100
    /// Request bodies are read and dropped; one larger than this is refused with 413.
    public var maxBody = 1024 * 1024

    public init() {}
}

/// An incremental, strict HTTP/1.x request parser (RFC 9112), sans I/O: append bytes as
/// they arrive and call `next()` until it answers `.needMore`. Request bodies are skipped
/// (this is a static file server), so pipelined requests stay in step.
///
/// Heads and chunk lines are scanned a byte at a time and every limit is checked at the
/// byte that crosses it, so the same bytes give the same events however they were split
/// into reads.
public struct HTTPRequestParser {
    public enum Event: Equatable {
        case request(HTTPRequestHead)
        case needMore
        /// The connection cannot be trusted to stay in step: answer `status`, then close.
        case error(HTTPStatus, String)
    }

    private enum Body: Equatable {
        case none
        case fixed(Int)
        /// A chunk-size line (the size and any extensions).
        case chunkSize
        case chunkData(Int)
        /// The line end after a chunk's data; `sawCR` once its CR has come.
        case chunkDataEnd(sawCR: Bool)
        case trailers(count: Int)
    }

    static let cr: UInt8 = 0x0D, lf: UInt8 = 0x0A, space: UInt8 = 0x20

    private let limits: HTTPParserLimits
    private var buffer: [UInt8] = []
    private var start = 0
    /// Bytes of the head or chunk line being scanned, from `start`.
    private var scanned = 0
    /// Where the head's current line begins, relative to `start`.
    private var lineStart = 0
    /// The scan is still in the request line's method.
    private var inMethod = true
    private var body = Body.none
    private var bodyBytes = 0
    /// An error is final: once found, it is the answer to every later call.
    private var failure: HTTPRefusal?

    public init(limits: HTTPParserLimits = HTTPParserLimits()) {
        self.limits = limits
    }

    /// Bytes received and not yet consumed.
    public var bufferedBytes: Int { buffer.count - start }

    /// True while part of a request head (or body) has arrived but not all of it.
    public var isMidRequest: Bool { bufferedBytes > 0 || body != .none }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    public mutating func next() -> Event {
        if let failure { return .error(failure.status, failure.why) }
        do throws(HTTPRefusal) {
            return try parse()
        } catch {
            failure = error
            return .error(error.status, error.why)
        }
    }

    private mutating func parse() throws(HTTPRefusal) -> Event {
        while body != .none {
            guard try skipBody() else { return .needMore }
        }
        // RFC 9112 2.2: ignore empty lines before a request line.
        if scanned == 0 {
            while start < buffer.count, buffer[start] == HTTPRequestParser.cr || buffer[start] == HTTPRequestParser.lf { start += 1 }
        }
        guard start < buffer.count else {
            // Between requests a keep-alive connection holds no buffer.
            buffer = []
            start = 0
            return .needMore
        }
        guard let end = try scanHead() else { return .needMore }
        let head = buffer[start..<end]
        start = end
        scanned = 0
        lineStart = 0
        inMethod = true
        let (request, framing) = try HTTPHeadParser.parse(head, limits: limits)
        switch framing {
        case .none: break
        case .length(let length): body = .fixed(length)
        case .chunked:
            body = .chunkSize
            bodyBytes = 0
        }
        return .request(request)
    }

    /// Scans on to the empty line that ends the head: the index just past it, or nil until
    /// it has come. A line's length is its bytes without the CRLF (or LF) that ends it.
    private mutating func scanHead() throws(HTTPRefusal) -> Int? {
        // Below this many bytes scanned no limit can be crossed: the common byte costs two compares.
        var safe = safeScanned()
        while start + scanned < buffer.count {
            let byte = buffer[start + scanned]
            scanned += 1
            if scanned > safe { try checkLimits(after: byte) }
            // The method first: a TLS ClientHello or other binary garbage has no line end to wait for.
            if inMethod {
                if byte == HTTPRequestParser.space {
                    guard scanned > 1 else { throw HTTPRefusal(.badRequest, "empty method") }
                    inMethod = false
                } else if !HTTPSyntax.isToken(byte) {
                    throw HTTPRefusal(.badRequest, "invalid byte in method")
                } else if scanned > 32 {
                    throw HTTPRefusal(.badRequest, "method too long")
                }
            } else if byte == HTTPRequestParser.lf {
                let length = scanned - 1 - lineStart
                if lineStart > 0 && (length == 0 || (length == 1 && buffer[start + lineStart] == HTTPRequestParser.cr)) {
                    return start + scanned
                }
                lineStart = scanned
                safe = safeScanned()
            }
        }
        return nil
    }

    /// The most bytes of head that can be scanned before the current line or the head as a
    /// whole could be over its limit.
    private func safeScanned() -> Int {
        min(lineStart + (lineStart == 0 ? limits.maxRequestLine : limits.maxHeaderLine), limits.maxHead)
    }

    /// The limits, checked at the byte just scanned. A CR may yet be its line's end: it
    /// counts once a byte other than LF follows.
    private func checkLimits(after byte: UInt8) throws(HTTPRefusal) {
        if scanned > limits.maxHead { throw HTTPRefusal(.headersTooLarge, "header section too large") }
        guard byte != HTTPRequestParser.lf else { return }
        let length = scanned - lineStart - (byte == HTTPRequestParser.cr ? 1 : 0)
        if lineStart == 0 {
            if length > limits.maxRequestLine { throw HTTPRefusal(.uriTooLong, "request line too long") }
        } else if length > limits.maxHeaderLine {
            throw HTTPRefusal(.headersTooLarge, "header line too long")
        }
    }

    /// Consumes body bytes: true when the body state moved on, false to wait for more.
    private mutating func skipBody() throws(HTTPRefusal) -> Bool {
        let available = buffer.count - start
        switch body {
        case .none:
            return true
        case .fixed(let remaining):
            let n = min(remaining, available)
            start += n
            body = remaining == n ? .none : .fixed(remaining - n)
            return body == .none
        case .chunkData(let remaining):
            let n = min(remaining, available)
            start += n
            body = remaining == n ? .chunkDataEnd(sawCR: false) : .chunkData(remaining - n)
            return remaining == n
        case .chunkDataEnd(let sawCR):
            guard available > 0 else { return false }
            let byte = buffer[start]
            start += 1
            if byte == HTTPRequestParser.lf {
                body = .chunkSize
            } else if byte == HTTPRequestParser.cr && !sawCR {
                body = .chunkDataEnd(sawCR: true)
            } else {
                throw HTTPRefusal(.badRequest, "chunk not followed by CRLF")
            }
            return true
        case .chunkSize, .trailers:
            guard let line = try scanBodyLine() else { return false }
            try chunkLine(line)
            return true
        }
    }

    /// The chunk-size or trailer line being scanned, without its CRLF (or LF); nil until
    /// its end has come. Its length limit is checked byte by byte, as a head line's.
    private mutating func scanBodyLine() throws(HTTPRefusal) -> ArraySlice<UInt8>? {
        while start + scanned < buffer.count {
            let byte = buffer[start + scanned]
            scanned += 1
            if byte == HTTPRequestParser.lf {
                var line = buffer[start..<start + scanned - 1]
                if line.last == HTTPRequestParser.cr { line = line.dropLast() }
                start += scanned
                scanned = 0
                return line
            }
            if scanned - (byte == HTTPRequestParser.cr ? 1 : 0) > limits.maxHeaderLine {
                throw HTTPRefusal(.badRequest, "chunk line too long")
            }
        }
        return nil
    }

    private mutating func chunkLine(_ line: ArraySlice<UInt8>) throws(HTTPRefusal) {
        switch body {
        case .chunkSize:
            // chunk-size [BWS ";" extension]: hex digits only (`Int(_:radix:)` took a sign,
            // and `-ff` trapped the process), at most what the body may still hold.
            let semicolon = line.firstIndex(of: 0x3B) ?? line.endIndex
            var digits = line[..<semicolon]
            while digits.last == 0x20 || digits.last == 0x09 { digits = digits.dropLast() }
            guard let size = StrictNumber.hex(digits, as: UInt64.self, max: UInt64(Int.max)).map({ Int($0) }) else {
                throw HTTPRefusal(.badRequest, "malformed chunk size")
            }
            // Extensions are ignored, but a bare CR or other control byte in one is refused.
            guard line[semicolon...].allSatisfy(HTTPSyntax.isFieldValueByte) else {
                throw HTTPRefusal(.badRequest, "invalid byte in chunk extension")
            }
            if size > limits.maxBody - bodyBytes { throw HTTPRefusal(.contentTooLarge, "request body too large") }
            bodyBytes += size
            body = size == 0 ? .trailers(count: 0) : .chunkData(size)
        case .trailers(let count):
            if line.isEmpty {
                body = .none
            } else if count >= limits.maxHeaders {
                throw HTTPRefusal(.headersTooLarge, "too many trailer fields")
            } else {
                body = .trailers(count: count + 1)
            }
        case .none, .fixed, .chunkData, .chunkDataEnd:
            break
        }
    }
}
