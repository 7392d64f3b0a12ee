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
        case chunkSize
        case chunkData(Int)
        case chunkDataEnd
        case trailers(count: Int)
    }

    private let limits: HTTPParserLimits
    private var buffer: [UInt8] = []
    private var start = 0
    /// Progress of the search for the end of the head, relative to `start`.
    private var scanned = 0
    private var lineStart = 0
    private var body = Body.none
    private var bodyBytes = 0
    /// An error is final: once found, it is the answer to every later call. (Kept as the
    /// status and reason alone, so an idle connection's parser stays small.)
    private var failure: (HTTPStatus, String)?
    private var scanFailure: (HTTPStatus, String)?

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
        if let failure { return .error(failure.0, failure.1) }
        let event = parse()
        if case .error(let status, let why) = event { failure = (status, why) }
        return event
    }

    private mutating func parse() -> Event {
        while body != .none {
            switch skipBody() {
            case .some(let event): return event
            case .none: continue
            }
        }
        // RFC 9112 2.2: ignore empty lines before a request line.
        if scanned == 0 {
            while start < buffer.count, buffer[start] == 0x0D || buffer[start] == 0x0A { start += 1 }
        }
        guard start < buffer.count else {
            // Between requests a keep-alive connection holds no buffer.
            buffer = []
            start = 0
            return .needMore
        }
        if let early = checkMethodPrefix() { return early }
        guard let end = findEndOfHead() else {
            if let scanFailure { return .error(scanFailure.0, scanFailure.1) }
            return .needMore
        }
        let head = buffer[start..<end]
        start = end
        scanned = 0
        lineStart = 0
        return parseHead(head)
    }

    /// A TLS ClientHello or other binary garbage has no CRLF to wait for: refuse it on sight.
    private func checkMethodPrefix() -> Event? {
        var i = start
        while i < buffer.count && i - start <= 32 {
            let byte = buffer[i]
            if byte == 0x20 { return i == start ? .error(.badRequest, "empty method") : nil }
            guard HTTPSyntax.isToken(byte) else { return .error(.badRequest, "invalid byte in method") }
            i += 1
        }
        return i - start > 32 ? .error(.badRequest, "method too long") : nil
    }

    /// Returns the index just past the blank line that ends the head, or nil.
    private mutating func findEndOfHead() -> Int? {
        while start + scanned < buffer.count {
            let i = start + scanned
            scanned += 1
            guard buffer[i] == 0x0A else { continue }
            let length = scanned - 1 - lineStart
            if length == 0 || (length == 1 && buffer[start + lineStart] == 0x0D) {
                if lineStart > 0 { return start + scanned }
            }
            lineStart = scanned
            if scanned > limits.maxHead {
                scanFailure = (.headersTooLarge, "header section too large")
                return nil
            }
        }
        let partial = scanned - lineStart
        if lineStart == 0 && partial > limits.maxRequestLine {
            scanFailure = (.uriTooLong, "request line too long")
        } else if lineStart > 0 && (partial > limits.maxHeaderLine || scanned > limits.maxHead) {
            scanFailure = (.headersTooLarge, "header line too long")
        }
        return nil
    }

    /// Parses a complete head (ending in its empty line) line by line, building nothing
    /// but the request: a small request costs a handful of short strings.
    private mutating func parseHead(_ head: ArraySlice<UInt8>) -> Event {
        var next = head.startIndex
        var requestLine: ArraySlice<UInt8>?
        var headers: [HTTPRequestHead.Header] = []
        while let newline = head[next...].firstIndex(of: 0x0A) {
            var line = head[next..<newline]
            next = newline + 1
            if line.last == 0x0D { line = line.dropLast() }
            if line.isEmpty { break }
            if line.contains(0x0D) { return .error(.badRequest, "bare CR") }
            guard requestLine != nil else {
                if line.count > limits.maxRequestLine { return .error(.uriTooLong, "request line too long") }
                requestLine = line
                continue
            }
            guard headers.count < limits.maxHeaders else { return .error(.headersTooLarge, "too many header fields") }
            if line.count > limits.maxHeaderLine { return .error(.headersTooLarge, "header line too long") }
            if line.first == 0x20 || line.first == 0x09 { return .error(.badRequest, "obsolete line folding") }
            guard let colon = line.firstIndex(of: 0x3A), colon > line.startIndex,
                  line[..<colon].allSatisfy(HTTPSyntax.isToken) else {
                return .error(.badRequest, "malformed header field")
            }
            var value = line[(colon + 1)...]
            while value.first == 0x20 || value.first == 0x09 { value = value.dropFirst() }
            while value.last == 0x20 || value.last == 0x09 { value = value.dropLast() }
            guard value.allSatisfy(HTTPSyntax.isFieldValueByte) else { return .error(.badRequest, "invalid byte in header value") }
            headers.append(.init(name: HTTPSyntax.lowercased(line[..<colon]), value: String(decoding: value, as: UTF8.self)))
        }
        guard let requestLine else { return .error(.badRequest, "empty request") }
        let parts = requestLine.split(separator: 0x20, maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[1].isEmpty else { return .error(.badRequest, "malformed request line") }
        guard parts[1].allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else { return .error(.badRequest, "invalid byte in target") }
        let minor: Int
        switch HTTPSyntax.version(parts[2]) {
        case let (major, m)? where major == 1: minor = min(m, 1)
        case _?: return .error(.versionNotSupported, "unsupported HTTP version")
        case .none: return .error(.badRequest, "malformed HTTP version")
        }
        let request = HTTPRequestHead(method: String(decoding: parts[0], as: UTF8.self),
                                      target: String(decoding: parts[1], as: UTF8.self),
                                      minorVersion: minor, headers: headers)
        if let problem = checkFraming(request) { return problem }
        return .request(request)
    }

    /// Host and message framing (RFC 9112 3.2, 6): anything ambiguous is refused, since a
    /// parser that guesses differently from a proxy in front of it is how requests get smuggled.
    private mutating func checkFraming(_ request: HTTPRequestHead) -> Event? {
        var hosts = 0, framed = false
        for header in request.headers {
            if header.name == "host" { hosts += 1 }
            if header.name == "content-length" || header.name == "transfer-encoding" { framed = true }
        }
        if hosts > 1 || (request.minorVersion == 1 && hosts == 0) { return .error(.badRequest, "missing or repeated Host") }
        guard framed else { return nil }
        let transferEncoding = request.header("transfer-encoding")
        let lengths = request.headers.filter { $0.name == "content-length" }
            .flatMap { $0.value.split(separator: ",", omittingEmptySubsequences: false).map(\.trimmingBlanks) }
        if let transferEncoding {
            guard lengths.isEmpty, request.minorVersion == 1 else { return .error(.badRequest, "Transfer-Encoding with Content-Length or HTTP/1.0") }
            guard transferEncoding.lowercased().split(separator: ",").map(\.trimmingBlanks) == ["chunked"] else {
                return .error(.notImplemented, "unsupported transfer coding")
            }
            body = .chunkSize
            bodyBytes = 0
            return nil
        }
        guard let first = lengths.first else { return nil }
        guard lengths.allSatisfy({ $0 == first }), !first.isEmpty, first.count <= 18,
              first.allSatisfy({ $0.isASCII && $0.isNumber }), let length = Int(first) else {
            return .error(.badRequest, "invalid or conflicting Content-Length")
        }
        if length > limits.maxBody { return .error(.contentTooLarge, "request body too large") }
        body = length > 0 ? .fixed(length) : .none
        return nil
    }

    /// Consumes body bytes; nil to go on, or an event to return.
    private mutating func skipBody() -> Event? {
        let available = buffer.count - start
        switch body {
        case .none:
            return nil
        case .fixed(let remaining):
            let n = min(remaining, available)
            start += n
            body = remaining == n ? .none : .fixed(remaining - n)
            return body == .none ? nil : .needMore
        case .chunkData(let remaining):
            let n = min(remaining, available)
            start += n
            body = remaining == n ? .chunkDataEnd : .chunkData(remaining - n)
            return body == .chunkDataEnd ? nil : .needMore
        case .chunkSize, .chunkDataEnd, .trailers:
            guard let newline = buffer[start...].firstIndex(of: 0x0A) else {
                return available > limits.maxHeaderLine ? .error(.badRequest, "chunk line too long") : .needMore
            }
            var line = buffer[start..<newline]
            if line.last == 0x0D { line = line.dropLast() }
            start = newline + 1
            return chunkLine(line)
        }
    }

    private mutating func chunkLine(_ line: ArraySlice<UInt8>) -> Event? {
        switch body {
        case .chunkSize:
            let digits = line.prefix { $0 != 0x3B }.filter { $0 != 0x20 && $0 != 0x09 }
            guard !digits.isEmpty, digits.count <= 15,
                  let size = Int(String(decoding: digits, as: UTF8.self), radix: 16) else {
                return .error(.badRequest, "malformed chunk size")
            }
            bodyBytes += size
            if bodyBytes > limits.maxBody { return .error(.contentTooLarge, "request body too large") }
            body = size == 0 ? .trailers(count: 0) : .chunkData(size)
        case .chunkDataEnd:
            guard line.isEmpty else { return .error(.badRequest, "chunk not followed by CRLF") }
            body = .chunkSize
        case .trailers(let count):
            if line.isEmpty {
                body = .none
            } else if count >= limits.maxHeaders {
                return .error(.headersTooLarge, "too many trailer fields")
            } else {
                body = .trailers(count: count + 1)
            }
        case .none, .fixed, .chunkData:
            break
        }
        return nil
    }
}
