import Glibc
import Logging
import ServerCore

/// One HTTP/1.x connection, as `SessionDriver` runs it: requests are answered one per step,
/// in order; a gzip response compressed while sent goes one chunk per step, so the driver
/// stops between chunks as between answers when the peer does not read.
///
/// The phases: `readingHead` (opened, or a head has begun: the head deadline runs from its
/// first byte), `idle` (between requests: the keep-alive timeout), answering (within one
/// step), `streaming`, `closing` (the last answer is out: nothing more is taken).
///
/// What one step may block on, kept inline because each is bounded: a `pread` of at most
/// `inlineFileLimit` bytes, or one compression by the gzip cache (at most
/// `GzipCache.fileLimit` bytes, once per file and version), or one chunk of a stream.
///
/// A class, though confined like a value to its driver: the driver is generic in another
/// module and runs unspecialised, copying its session through value witnesses at times;
/// a reference copies for one retain, which the small-file keep-alive path measures.
final class HTTPSession: ConnectionSession {
    /// Nothing is offloaded or awaited.
    typealias Completion = Never

    /// Shared by every connection of the service: a session holds a pointer, not a copy.
    final class Shared: Sendable {
        let config: HTTPConfiguration
        /// Whether access lines are written at all: their text is built only then.
        let logsAccess: Bool
        let driver: SessionDriver<HTTPSession>.Configuration
        let metrics: HTTPMetrics?
        /// Header fields on every response: Strict-Transport-Security over HTTPS.
        let headExtra: [UInt8]

        init(_ config: HTTPConfiguration) {
            self.config = config
            logsAccess = config.logger.logLevel <= .info
            metrics = config.metrics
            // Unanswered requests wait in the parser; past one head of them, reading stops.
            driver = .init(service: config.tls == nil ? "http" : "https", logger: config.logger,
                           inputLimit: config.limits.maxHead, outputLimit: config.highWater, duration: config.metrics?.duration)
            let hsts = config.tls == nil ? nil : config.hstsMaxAge
            headExtra = hsts.map { HTTPResponseHead.lines([("Strict-Transport-Security", "max-age=\($0)")]) } ?? []
        }
    }

    private enum Phase {
        case readingHead
        case idle
        case streaming(GzipResponse)
        case closing
    }

    /// A response whose body is still being compressed (a class: a session between
    /// requests holds no stream state).
    private final class GzipResponse {
        let gzip: GzipStream
        var exchange: Exchange

        init(gzip: GzipStream, exchange: Exchange) {
            self.gzip = gzip
            self.exchange = exchange
        }
    }

    /// One request being answered: how its response is framed, and its access line.
    private struct Exchange {
        /// Method and target, kept apart so that nothing is built unless the access line is written.
        let method: String
        let target: String
        let keepAlive: Bool
        /// The client itself asked to close (Connection: close, or 1.0 without keep-alive).
        var clientCloses = false
        let isHead: Bool
        let http10: Bool
        var status = HTTPStatus.ok
        var bytes: Int64 = 0
        var extra: [UInt8] = []

        /// The access line's text, `"GET /x" 200 100`, method and target escaped (`LogEscape`);
        /// `"-"` for what did not parse. Built as bytes: interpolating it cost about 4,000
        /// instructions a request (callgrind).
        var accessText: String {
            var line: [UInt8] = []
            line.reserveCapacity(method.utf8.count + target.utf8.count + 32)
            line.append(0x22)
            LogEscape.append(method, to: &line)
            if !target.isEmpty {
                line.append(0x20)
                LogEscape.append(target, to: &line)
            }
            line.append(0x22)
            line.append(0x20)
            AccessLog.appendDecimal(UInt64(status.rawValue), to: &line)
            line.append(0x20)
            AccessLog.appendDecimal(UInt64(clamping: bytes), to: &line)
            return String(decoding: line, as: UTF8.self)
        }

        func head(_ status: HTTPStatus, _ headers: [(String, String)]) -> [UInt8] {
            HTTPResponseHead.bytes(status, headers: headers, keepAlive: keepAlive, http10: http10, extra: extra)
        }
    }

    /// RFC 9110's methods, and PATCH (RFC 5789).
    static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]

    private let shared: Shared
    private var config: HTTPConfiguration { shared.config }
    /// For the debug line about a refused request (the driver writes no debug lines).
    let id: ConnectionID
    private var parser: HTTPRequestParser
    private var phase = Phase.readingHead
    private var peerHasClosed = false
    private var draining = false
    /// The last step found no complete request, and nothing has arrived since.
    private var waitingForInput = false

    init(_ shared: Shared, id: ConnectionID) {
        self.shared = shared
        self.id = id
        parser = HTTPRequestParser(limits: shared.config.limits)
    }

    var bufferedBytes: Int { parser.bufferedBytes }

    func start() -> Actions { [.idleTimeout(config.headerTimeout)] }

    func receive(_ bytes: UnsafeRawBufferPointer) {
        parser.append(bytes)
        waitingForInput = false
    }

    func step() -> Actions? {
        waitingForInput = false
        switch phase {
        case .closing: return nil
        case .streaming(let response): return pump(response)
        case .idle, .readingHead: break
        }
        switch parser.next() {
        case .needMore:
            if peerHasClosed || (draining && !parser.isMidRequest) { return closeAfterFlush() }
            if parser.isMidRequest, case .idle = phase {
                phase = .readingHead
                return [.idleTimeout(config.headerTimeout)]
            }
            waitingForInput = true
            return nil
        case .error(let status, let why):
            config.logger.debug("http \(id) bad request: \(why)")
            var exchange = Exchange(method: "-", target: "", keepAlive: false, isHead: false, http10: false, extra: shared.headExtra)
            return errorPage(status, &exchange)
        case .request(let request):
            return respond(to: request)
        }
    }

    func complete(_ completion: Never) -> Actions {}

    /// What is buffered is still answered; the close comes once nothing complete is left.
    func peerClosed() -> Actions {
        peerHasClosed = true
        return waitingForInput ? closeAfterFlush() : []
    }

    /// A request in progress is answered with `Connection: close`, and so is one that comes
    /// to an idle connection within `drainIdleTimeout`; after that the idle timer closes it.
    func drain() -> Actions {
        draining = true
        switch phase {
        case .idle, .readingHead: return parser.isMidRequest ? [] : [.idleTimeout(config.drainIdleTimeout)]
        case .streaming, .closing: return []
        }
    }

    private func closeAfterFlush() -> Actions {
        phase = .closing
        return [.closeAfterFlush(lingering: true)]
    }

    private func respond(to request: HTTPRequestHead) -> Actions {
        let isHead = request.method == "HEAD"
        let keepAlive = request.keepAlive
        var exchange = Exchange(method: request.method, target: request.target, keepAlive: keepAlive && !draining,
                                isHead: isHead, http10: request.minorVersion == 0, extra: shared.headExtra)
        exchange.clientCloses = !keepAlive
        if let port = config.redirectToHTTPS?.port {
            let location = "https://" + redirectHost(request) + (port == 443 ? "" : ":\(port)") + (request.target.hasPrefix("/") ? request.target : "/")
            return errorPage(.movedPermanently, extra: [("Location", location)], &exchange)
        }
        guard request.method == "GET" || isHead else {
            // RFC 9110 15.5.6 and 15.6.2: 405 (with Allow) for a method it defines that the
            // files do not take, 501 for one the server does not know (methods are case-sensitive).
            guard Self.knownMethods.contains(request.method) else { return errorPage(.notImplemented, &exchange) }
            return errorPage(.methodNotAllowed, extra: [("Allow", "GET, HEAD")], &exchange)
        }
        guard let path = request.path else { return errorPage(.badRequest, &exchange) }
        switch RequestPath(path) {
        case .invalid:
            return errorPage(.badRequest, &exchange)
        case .hidden:
            return errorPage(.notFound, &exchange)
        case .file(let relative, let directorySyntax):
            switch config.files.lookup(relative, directorySyntax: directorySyntax) {
            case .redirect(let location):
                return errorPage(.movedPermanently, extra: [("Location", location)], &exchange)
            case .notFound:
                return errorPage(.notFound, &exchange)
            case .forbidden:
                return errorPage(.forbidden, &exchange)
            case .failed(let errno):
                var actions = errorPage(.internalServerError, &exchange)
                actions.insert(.log(.error, "cannot open \(LogEscape.escaped(path)): \(errorText(errno))"), at: 0)
                return actions
            case .file(let file, let metadata, let relativePath, let contents, let plainHeaders):
                let coding = ContentCoding.choose(
                    for: request, path: relativePath, size: metadata.size,
                    compressible: MIMETypes.lookup(relativePath).compressible, minLength: config.gzipMinLength,
                    sibling: {
                        config.files.precompressed(relativePath, original: metadata).map {
                            .stored(file: $0.0, metadata: $0.1, contents: $0.contents, headers: nil)
                        }
                    },
                    cached: {
                        config.gzipCache.encoding(of: relativePath, metadata, file: file, type: MIMETypes.lookup(relativePath), hits: shared.metrics?.gzipCacheHits).map {
                            .stored(file: nil, metadata: $0.metadata, contents: $0.bytes, headers: $0.headers)
                        }
                    })
                // The common cases, answered with header lines prepared ahead.
                if request.isUnconditional {
                    if case .identity = coding, let plainHeaders {
                        return whole(plainHeaders, from: file, contents, length: metadata.size, &exchange)
                    }
                    if case .stored(let storedFile, let stored, let storedContents, let headers?) = coding {
                        return whole(headers, from: storedFile, storedContents, length: stored.size, &exchange)
                    }
                }
                return answer(file, metadata, contents, type: MIMETypes.lookup(relativePath), coding: coding, for: request, &exchange)
            }
        }
    }

    private func answer(_ file: FileDescriptor, _ metadata: FileMetadata, _ contents: [UInt8]?,
                                 type: MIMETypes.Entry, coding: ContentCoding,
                                 for request: HTTPRequestHead, _ exchange: inout Exchange) -> Actions {
        let plan = ResponsePlan(request: request, file: metadata, type: type, coding: coding.plan)
        exchange.status = plan.status
        switch plan.body {
        case .none:
            return finish(exchange, .write(exchange.head(plan.status, plan.headers)))
        case .errorPage:
            return errorPage(plan.status, extra: plan.headers, &exchange)
        case .file(let offset, let length, let fromStored):
            let head = exchange.head(plan.status, plan.headers)
            guard fromStored else { return body(head, from: file, contents, offset: offset, length: length, &exchange) }
            guard case .stored(let storedFile, _, let storedContents, _) = coding else { return [.close] }
            return body(head, from: storedFile, storedContents, offset: offset, length: length, &exchange)
        case .gzipStream:
            let head = exchange.head(plan.status, plan.headers + [("Transfer-Encoding", "chunked")])
            guard !exchange.isHead else { return finish(exchange, .write(head)) }
            guard let gzip = GzipStream(file: file, length: metadata.size, level: config.gzipLevel) else {
                phase = .closing
                return [.write(head), .log(.error, "zlib failed to start"), .close]
            }
            phase = .streaming(GzipResponse(gzip: gzip, exchange: exchange))
            return [.write(head)]
        }
    }

    /// A 200 with the prepared header `lines` and the whole body.
    private func whole(_ lines: [UInt8], from source: FileDescriptor?, _ contents: [UInt8]?, length: Int64,
                       _ exchange: inout Exchange) -> Actions {
        let head = HTTPResponseHead.bytes(.ok, lines: lines, keepAlive: exchange.keepAlive, http10: exchange.http10, extra: exchange.extra)
        return body(head, from: source, contents, offset: 0, length: length, &exchange)
    }

    /// `head` and then `length` bytes from `offset` of the body: from memory when the whole
    /// body is there, read into the same write when small, else by sendfile.
    private func body(_ head: [UInt8], from source: FileDescriptor?, _ contents: [UInt8]?, offset: Int64, length: Int64,
                               _ exchange: inout Exchange) -> Actions {
        var bytes = head
        if exchange.isHead {
            return finish(exchange, .write(bytes))
        }
        if let contents, Int64(contents.count) >= offset + length {
            bytes.append(contentsOf: contents[Int(offset)..<Int(offset + length)])
            exchange.bytes = length
            return finish(exchange, .write(bytes))
        }
        guard let source else {
            phase = .closing
            return [.close]
        }
        if length <= config.inlineFileLimit {
            let headLength = bytes.count
            bytes.append(contentsOf: repeatElement(0, count: Int(length)))
            let n = bytes.withUnsafeMutableBytes { pread(source.fd, $0.baseAddress! + headLength, Int(length), off_t(offset)) }
            // A file that shrank since fstat cannot meet its Content-Length: end the connection.
            guard n == Int(length) else {
                phase = .closing
                return [.write(bytes), .close]
            }
            exchange.bytes = length
            return finish(exchange, .write(bytes))
        }
        exchange.bytes = length
        return finish(exchange, .write(bytes), .writeFile(source, offset: offset, count: length))
    }

    /// The next chunk of a gzip response, or its end.
    private func pump(_ response: GzipResponse) -> Actions {
        switch response.gzip.next() {
        case .data(let data):
            var chunk = Array((String(data.count, radix: 16) + "\r\n").utf8)
            chunk.append(contentsOf: data)
            chunk.append(contentsOf: [0x0D, 0x0A])
            response.exchange.bytes += Int64(data.count)
            return [.write(chunk)]
        case .end:
            return finish(response.exchange, .write(Array("0\r\n\r\n".utf8)))
        case .failed:
            phase = .closing
            return [.log(.error, "read failed while compressing \(LogEscape.escaped(response.exchange.target))"), .close]
        }
    }

    private func errorPage(_ status: HTTPStatus, extra: [(String, String)] = [], _ exchange: inout Exchange) -> Actions {
        let page = HTTPResponseHead.errorPage(status)
        var bytes = exchange.head(status, extra + [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", String(page.count))])
        if !exchange.isHead {
            bytes.append(contentsOf: page)
            exchange.bytes = Int64(page.count)
        }
        exchange.status = status
        return finish(exchange, .write(bytes))
    }

    /// The answer's writes, then its access line and what follows it: the keep-alive
    /// timeout, or the close. One array per answer, allocated once.
    private func finish(_ exchange: Exchange, _ write: SessionAction<Never>, _ more: SessionAction<Never>? = nil) -> Actions {
        var actions = Actions()
        actions.reserveCapacity(4)
        shared.metrics?.answered(method: exchange.method, status: exchange.status.rawValue, bytes: exchange.bytes)
        actions.append(write)
        if let more { actions.append(more) }
        if shared.logsAccess {
            actions.append(.log(.access, exchange.accessText))
        }
        if exchange.keepAlive {
            phase = .idle
            actions.append(.idleTimeout(config.keepAliveTimeout))
        } else {
            phase = .closing
            // No lingering when the client closes and has sent nothing more: it expects the end.
            actions.append(.closeAfterFlush(lingering: !(exchange.clientCloses && !parser.isMidRequest)))
        }
        return actions
    }
}
