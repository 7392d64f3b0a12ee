import ServerCore

/// Why a request was refused: thrown inside the parser, returned as `.error`.
struct HTTPRefusal: Error {
    let status: HTTPStatus
    let why: String

    init(_ status: HTTPStatus, _ why: String) {
        self.status = status
        self.why = why
    }
}

/// How a request's body is delimited.
enum BodyFraming: Equatable {
    case none
    case length(Int)
    case chunked
}

/// A complete request head, from its request line to its empty line, as a request and
/// the framing of its body: a function of those bytes alone, however they arrived.
enum HTTPHeadParser {
    private static let cr = HTTPRequestParser.cr, lf = HTTPRequestParser.lf, space = HTTPRequestParser.space

    /// Parses a complete head (ending in its empty line) line by line, building nothing
    /// but the request: a small request costs a handful of short strings. Lengths were
    /// checked by the scan.
    static func parse(_ head: ArraySlice<UInt8>, limits: HTTPParserLimits) throws(HTTPRefusal) -> (HTTPRequestHead, BodyFraming) {
        var next = head.startIndex
        var requestLine: ArraySlice<UInt8>?
        var headers: [HTTPRequestHead.Header] = []
        while let newline = head[next...].firstIndex(of: lf) {
            var line = head[next..<newline]
            next = newline + 1
            if line.last == cr { line = line.dropLast() }
            if line.isEmpty { break }
            if line.contains(cr) { throw HTTPRefusal(.badRequest, "bare CR") }
            guard requestLine != nil else {
                requestLine = line
                continue
            }
            guard headers.count < limits.maxHeaders else { throw HTTPRefusal(.headersTooLarge, "too many header fields") }
            if line.first == 0x20 || line.first == 0x09 { throw HTTPRefusal(.badRequest, "obsolete line folding") }
            guard let colon = line.firstIndex(of: 0x3A), colon > line.startIndex,
                  line[..<colon].allSatisfy(HTTPSyntax.isToken) else {
                throw HTTPRefusal(.badRequest, "malformed header field")
            }
            var value = line[(colon + 1)...]
            while value.first == 0x20 || value.first == 0x09 { value = value.dropFirst() }
            while value.last == 0x20 || value.last == 0x09 { value = value.dropLast() }
            guard value.allSatisfy(HTTPSyntax.isFieldValueByte) else { throw HTTPRefusal(.badRequest, "invalid byte in header value") }
            headers.append(.init(name: HTTPSyntax.lowercased(line[..<colon]), value: String(decoding: value, as: UTF8.self)))
        }
        guard let requestLine else { throw HTTPRefusal(.badRequest, "empty request") }
        // Exactly two spaces: method, target, version. Found by index rather than by `split`,
        // which built an array of slices for every request.
        guard let firstSpace = requestLine.firstIndex(of: space),
              let secondSpace = requestLine[(firstSpace + 1)...].firstIndex(of: space),
              !requestLine[(secondSpace + 1)...].contains(space) else {
            throw HTTPRefusal(.badRequest, "malformed request line")
        }
        let method = requestLine[..<firstSpace], target = requestLine[(firstSpace + 1)..<secondSpace]
        let version = requestLine[(secondSpace + 1)...]
        guard !target.isEmpty else { throw HTTPRefusal(.badRequest, "malformed request line") }
        guard target.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else { throw HTTPRefusal(.badRequest, "invalid byte in target") }
        let minor: Int
        switch HTTPSyntax.version(version) {
        case let (major, m)? where major == 1: minor = min(m, 1)
        case _?: throw HTTPRefusal(.versionNotSupported, "unsupported HTTP version")
        case .none: throw HTTPRefusal(.badRequest, "malformed HTTP version")
        }
        let request = HTTPRequestHead(method: String(decoding: method, as: UTF8.self),
                                      target: String(decoding: target, as: UTF8.self),
                                      minorVersion: minor, headers: headers)
        return (request, try framing(of: request, limits: limits))
    }

    /// Host and message framing (RFC 9112 3.2, 6): anything ambiguous is refused, since a
    /// parser that guesses differently from a proxy in front of it is how requests get smuggled.
    private static func framing(of request: HTTPRequestHead, limits: HTTPParserLimits) throws(HTTPRefusal) -> BodyFraming {
        var hosts = 0, framed = false
        for header in request.headers {
            if header.name == "host" { hosts += 1 }
            if header.name == "content-length" || header.name == "transfer-encoding" { framed = true }
        }
        if hosts > 1 || (request.minorVersion == 1 && hosts == 0) { throw HTTPRefusal(.badRequest, "missing or repeated Host") }
        guard framed else { return .none }
        let transferEncoding = request.header("transfer-encoding")
        // Repeated fields and comma lists alike must all say the same length.
        let lengths = request.headers.filter { $0.name == "content-length" }
            .flatMap { $0.value.split(separator: ",", omittingEmptySubsequences: false).map(\.trimmingBlanks) }
        if let transferEncoding {
            guard lengths.isEmpty, request.minorVersion == 1 else {
                throw HTTPRefusal(.badRequest, "Transfer-Encoding with Content-Length or HTTP/1.0")
            }
            guard transferEncoding.lowercased().split(separator: ",").map(\.trimmingBlanks) == ["chunked"] else {
                throw HTTPRefusal(.notImplemented, "unsupported transfer coding")
            }
            return .chunked
        }
        guard let first = lengths.first else { return .none }
        guard lengths.allSatisfy({ $0 == first }), let length = StrictNumber.count(first) else {
            throw HTTPRefusal(.badRequest, "invalid or conflicting Content-Length")
        }
        if length > limits.maxBody { throw HTTPRefusal(.contentTooLarge, "request body too large") }
        return length > 0 ? .length(length) : .none
    }
}
