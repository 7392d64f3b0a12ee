import Dispatch
import Glibc
import ServerCore

/// Wires one connection to the parser and the static files: requests are answered one
/// at a time and in order; output past the high-water mark pauses both reading and
/// answering until the peer catches up, so a connection's memory stays bounded.
///
/// The bound, per connection, whatever a peer pipelines without reading: the output
/// queue is checked after each answer, so it holds less than `highWater` (or
/// `Connection.outputIsFull`'s 1 MiB, if lower) plus one answer. An answer keeps in memory
/// its head and at most one body copy: up to `inlineFileLimit` read for it, a file kept
/// whole by the open-file cache (`keepInMemory`), a gzip-cache entry (`GzipCache.fileLimit`
/// before compression) or one compressed chunk; larger files go by sendfile and hold a
/// descriptor. Unanswered requests wait in the parser: reading stops while output waits,
/// so they are at most `maxHead` plus one read (64 KiB), in a buffer at most twice that
/// (consumed bytes are dropped once they are half of it). With the defaults: under
/// 256 KiB + 1 MiB of output and 200 KiB of input (measured, 32 pipelined GETs of a
/// 20 KiB file with nothing read: 263 KiB queued; of a 3 MiB file: one answer).
final class HTTPHandler: ConnectionHandler {
    /// Shared by every connection of the service: a handler holds a pointer, not a copy.
    final class Shared: Sendable {
        let config: HTTPConfiguration
        init(_ config: HTTPConfiguration) { self.config = config }
    }

    private let shared: Shared
    private var parser: HTTPRequestParser
    private var stream: Stream?
    private var headerDeadlineSet = false
    private var peerClosed = false
    private var draining = false

    /// A response whose body is still being compressed (a class: an idle connection
    /// holds only an empty pointer).
    private final class Stream {
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
        let started = DispatchTime.now().uptimeNanoseconds
        var status = HTTPStatus.ok
        var bytes: Int64 = 0

        /// `GET /x` for the access line, escaped (`LogEscape`); `-` for what did not parse.
        var requestLine: String {
            target.isEmpty ? LogEscape.escaped(method) : LogEscape.escaped(method) + " " + LogEscape.escaped(target)
        }

        func head(_ status: HTTPStatus, _ headers: [(String, String)]) -> [UInt8] {
            HTTPResponseHead.bytes(status, headers: headers, keepAlive: keepAlive, http10: http10)
        }
    }

    /// RFC 9110's methods, and PATCH (RFC 5789).
    static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]

    init(_ shared: Shared) {
        self.shared = shared
        parser = HTTPRequestParser(limits: shared.config.limits)
    }

    func connectionOpened(_ connection: any ConnectionContext) {
        connection.setIdleTimeout(shared.config.headerTimeout)
        headerDeadlineSet = true
    }

    func connection(_ connection: any ConnectionContext, received bytes: UnsafeRawBufferPointer) {
        parser.append(bytes)
        // While a response is still going out, requests queue in the parser; past a bound,
        // stop reading until they have been answered.
        if (stream != nil || outputWaits(connection)) && parser.bufferedBytes > shared.config.limits.maxHead {
            connection.pauseReading()
        }
        serve(connection)
    }

    func connectionReceivedEOF(_ connection: any ConnectionContext) {
        peerClosed = true
        serve(connection)
    }

    func connectionWritable(_ connection: any ConnectionContext) {
        if stream != nil { pump(connection) } else { serve(connection) }
    }

    func connectionShouldDrain(_ connection: any ConnectionContext) {
        draining = true
        serve(connection)
    }

    /// Enough output waits for the peer: checked after each answer, never only per read.
    private func outputWaits(_ connection: any ConnectionContext) -> Bool {
        connection.outputIsFull || connection.pendingOutputBytes >= shared.config.highWater
    }

    /// Answers the requests buffered so far, while the peer keeps up.
    private func serve(_ connection: any ConnectionContext) {
        while connection.isOpen && stream == nil {
            if outputWaits(connection) {
                connection.pauseReading()
                connection.notifyWhenWritable()
                return
            }
            switch parser.next() {
            case .needMore:
                if peerClosed || (draining && !parser.isMidRequest) { return connection.closeAfterFlush() }
                connection.resumeReading()
                if !parser.isMidRequest {
                    connection.setIdleTimeout(shared.config.keepAliveTimeout)
                    headerDeadlineSet = false
                } else if !headerDeadlineSet {
                    connection.setIdleTimeout(shared.config.headerTimeout)
                    headerDeadlineSet = true
                }
                return
            case .error(let status, let why):
                shared.config.logger.debug("http \(connection.logName) bad request: \(why)")
                var exchange = Exchange(method: "-", target: "", keepAlive: false, isHead: false, http10: false)
                sendError(status, &exchange, on: connection)
                return
            case .request(let request):
                headerDeadlineSet = false
                respond(to: request, on: connection)
            }
        }
    }

    private func respond(to request: HTTPRequestHead, on connection: any ConnectionContext) {
        let isHead = request.method == "HEAD"
        var exchange = Exchange(method: request.method, target: request.target, keepAlive: request.keepAlive && !draining,
                                isHead: isHead, http10: request.minorVersion == 0)
        exchange.clientCloses = !request.keepAlive
        guard request.method == "GET" || isHead else {
            // RFC 9110 15.5.6 and 15.6.2: 405 (with Allow) for a method it defines that the
            // files do not take, 501 for one the server does not know (methods are case-sensitive).
            guard HTTPHandler.knownMethods.contains(request.method) else { return sendError(.notImplemented, &exchange, on: connection) }
            return sendError(.methodNotAllowed, extra: [("Allow", "GET, HEAD")], &exchange, on: connection)
        }
        guard let path = request.path else { return sendError(.badRequest, &exchange, on: connection) }
        switch RequestPath(path) {
        case .invalid:
            sendError(.badRequest, &exchange, on: connection)
        case .hidden:
            sendError(.notFound, &exchange, on: connection)
        case .file(let relative, let directorySyntax):
            switch shared.config.files.lookup(relative, directorySyntax: directorySyntax) {
            case .redirect(let location):
                sendError(.movedPermanently, extra: [("Location", location)], &exchange, on: connection)
            case .notFound:
                sendError(.notFound, &exchange, on: connection)
            case .forbidden:
                sendError(.forbidden, &exchange, on: connection)
            case .failed(let errno):
                shared.config.logger.error("http \(connection.logName) cannot open \(LogEscape.escaped(path)): \(errorText(errno))")
                sendError(.internalServerError, &exchange, on: connection)
            case .file(let file, let metadata, let relativePath, let contents, let plainHeaders):
                if let plainHeaders, request.isPlain {
                    // The common case, answered with what was prepared when the file was opened.
                    var exchange = exchange
                    let head = HTTPResponseHead.bytes(.ok, lines: plainHeaders, keepAlive: exchange.keepAlive, http10: exchange.http10)
                    sendBody(head, from: file, contents, offset: 0, length: metadata.size, &exchange, on: connection)
                } else {
                    sendFile(file, metadata, relativePath, contents: contents, for: request, exchange, on: connection)
                }
            }
        }
    }

    private func sendFile(_ file: FileDescriptor, _ metadata: FileMetadata, _ relativePath: String, contents: [UInt8]?,
                          for request: HTTPRequestHead, _ exchange: Exchange, on connection: any ConnectionContext) {
        var exchange = exchange
        let type = MIMETypes.lookup(relativePath)
        let gzipped = gzipEncoding(of: file, metadata, relativePath, type: type, for: request)
        let plan = ResponsePlan(request: request, file: metadata, type: type,
                                precompressed: gzipped?.metadata, gzipMinLength: shared.config.gzipMinLength)
        exchange.status = plan.status
        switch plan.body {
        case .none:
            connection.write(exchange.head(plan.status, plan.headers))
            finish(exchange, on: connection)
        case .errorPage:
            sendError(plan.status, extra: plan.headers, &exchange, on: connection)
        case .file(let offset, let length, let fromGzipped):
            sendBody(exchange.head(plan.status, plan.headers), from: fromGzipped ? gzipped?.file : file,
                     fromGzipped ? gzipped?.contents : contents, offset: offset, length: length, &exchange, on: connection)
        case .gzipStream:
            connection.write(exchange.head(plan.status, plan.headers + [("Transfer-Encoding", "chunked")]))
            guard !exchange.isHead else { return finish(exchange, on: connection) }
            guard let gzip = GzipStream(file: file, length: metadata.size, level: shared.config.gzipLevel) else {
                shared.config.logger.error("http \(connection.logName) zlib failed to start")
                return connection.close()
            }
            stream = Stream(gzip: gzip, exchange: exchange)
            pump(connection)
        }
    }

    /// Sends `head` and then `length` bytes from `offset` of the body: from memory when the
    /// whole body is there, read into the same write when small, else by sendfile.
    private func sendBody(_ head: [UInt8], from source: FileDescriptor?, _ contents: [UInt8]?, offset: Int64, length: Int64,
                          _ exchange: inout Exchange, on connection: any ConnectionContext) {
        var bytes = head
        if exchange.isHead {
            connection.write(bytes)
        } else if let contents, Int64(contents.count) >= offset + length {
            bytes.append(contentsOf: contents[Int(offset)..<Int(offset + length)])
            connection.write(bytes)
            exchange.bytes = length
        } else if let source, length <= shared.config.inlineFileLimit {
            let headLength = bytes.count
            bytes.append(contentsOf: repeatElement(0, count: Int(length)))
            let n = bytes.withUnsafeMutableBytes { pread(source.fd, $0.baseAddress! + headLength, Int(length), off_t(offset)) }
            connection.write(bytes)
            // A file that shrank since fstat cannot meet its Content-Length: end the connection.
            if n != Int(length) { return connection.close() }
            exchange.bytes = length
        } else if let source {
            connection.write(bytes)
            connection.write(file: source, offset: offset, count: length)
            exchange.bytes = length
        } else {
            return connection.close()
        }
        finish(exchange, on: connection)
    }

    /// The gzip encoding to send if the client takes gzip: a fresh `.gz` file beside the
    /// original, or else (for a compressible file within the cache's limit) the original
    /// compressed once and kept in memory. Its metadata carries its own size and validators.
    private func gzipEncoding(of file: FileDescriptor, _ metadata: FileMetadata, _ relativePath: String,
                              type: MIMETypes.Entry, for request: HTTPRequestHead)
        -> (file: FileDescriptor?, metadata: FileMetadata, contents: [UInt8]?)? {
        guard !relativePath.hasSuffix(".gz"), request.acceptsGzip else { return nil }
        if let (gzFile, gzMetadata, gzContents) = shared.config.files.precompressed(relativePath, original: metadata) {
            return (gzFile, gzMetadata, gzContents)
        }
        guard type.compressible, metadata.size >= shared.config.gzipMinLength,
              let bytes = shared.config.gzipCache.encoding(of: relativePath, metadata, file: file) else { return nil }
        return (nil, FileMetadata(size: Int64(bytes.count), modified: metadata.modified), bytes)
    }

    /// Compresses and queues chunks until the high-water mark, then waits for the peer.
    private func pump(_ connection: any ConnectionContext) {
        while let current = stream {
            if outputWaits(connection) {
                connection.notifyWhenWritable()
                return
            }
            switch current.gzip.next() {
            case .data(let data):
                var chunk = Array((String(data.count, radix: 16) + "\r\n").utf8)
                chunk.append(contentsOf: data)
                chunk.append(contentsOf: [0x0D, 0x0A])
                connection.write(chunk)
                current.exchange.bytes += Int64(data.count)
            case .end:
                connection.write(Array("0\r\n\r\n".utf8))
                stream = nil
                finish(current.exchange, on: connection)
                serve(connection)
            case .failed:
                stream = nil
                shared.config.logger.error("http \(connection.logName) read failed while compressing \(LogEscape.escaped(current.exchange.target))")
                connection.close()
            }
        }
    }

    private func sendError(_ status: HTTPStatus, extra: [(String, String)] = [], _ exchange: inout Exchange, on connection: any ConnectionContext) {
        let body = HTTPResponseHead.errorPage(status)
        var bytes = exchange.head(status, extra + [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", String(body.count))])
        if !exchange.isHead {
            bytes.append(contentsOf: body)
            exchange.bytes = Int64(body.count)
        }
        connection.write(bytes)
        exchange.status = status
        finish(exchange, on: connection)
    }

    private func finish(_ exchange: Exchange, on connection: any ConnectionContext) {
        let micros = (DispatchTime.now().uptimeNanoseconds - exchange.started) / 1000
        shared.config.logger.info("http \(connection.logName) \"\(exchange.requestLine)\" \(exchange.status.rawValue) \(exchange.bytes) \(micros / 1000).\(micros % 1000 / 100)ms")
        if !exchange.keepAlive {
            // No lingering when the client closes and has sent nothing more: it expects the end.
            connection.closeAfterFlush(lingering: !(exchange.clientCloses && !parser.isMidRequest))
        }
    }
}
