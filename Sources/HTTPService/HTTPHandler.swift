import Dispatch
import Glibc
import ServerCore

/// Wires one connection to the parser and the static files: requests are answered one
/// at a time and in order; output past the high-water mark pauses both reading and
/// answering until the peer catches up, so a connection's memory stays bounded.
final class HTTPHandler: ConnectionHandler {
    private let config: HTTPConfiguration
    private var parser: HTTPRequestParser
    private var stream: Stream?
    private var headerDeadlineSet = false
    private var peerClosed = false
    private var draining = false

    /// A response whose body is still being compressed.
    private struct Stream {
        let gzip: GzipStream
        var record: AccessRecord
        let keepAlive: Bool
    }

    /// What the access line says of one request.
    private struct AccessRecord {
        let request: String
        let started: UInt64
        var status = HTTPStatus.ok
        var bytes: Int64 = 0
    }

    init(_ config: HTTPConfiguration) {
        self.config = config
        parser = HTTPRequestParser(limits: config.limits)
    }

    func connectionOpened(_ connection: Connection) {
        connection.setIdleTimeout(config.headerTimeout)
        headerDeadlineSet = true
    }

    func connection(_ connection: Connection, received bytes: UnsafeRawBufferPointer) {
        parser.append(bytes)
        serve(connection)
    }

    func connectionReceivedEOF(_ connection: Connection) {
        peerClosed = true
        serve(connection)
    }

    func connectionWritable(_ connection: Connection) {
        if stream != nil { pump(connection) } else { serve(connection) }
    }

    func connectionShouldDrain(_ connection: Connection) {
        draining = true
        serve(connection)
    }

    /// Answers the requests buffered so far, while the peer keeps up.
    private func serve(_ connection: Connection) {
        while connection.isOpen && stream == nil {
            if connection.pendingOutputBytes >= config.highWater {
                connection.pauseReading()
                connection.notifyWhenWritable()
                return
            }
            switch parser.next() {
            case .needMore:
                if peerClosed || (draining && !parser.isMidRequest) { return connection.closeAfterFlush() }
                connection.resumeReading()
                if !parser.isMidRequest {
                    connection.setIdleTimeout(config.keepAliveTimeout)
                    headerDeadlineSet = false
                } else if !headerDeadlineSet {
                    connection.setIdleTimeout(config.headerTimeout)
                    headerDeadlineSet = true
                }
                return
            case .error(let status, let why):
                config.logger.debug("http \(connection.id) bad request: \(why)")
                var record = AccessRecord(request: "-", started: DispatchTime.now().uptimeNanoseconds)
                sendError(status, on: connection, keepAlive: false, head: false, record: &record)
                return
            case .request(let request):
                headerDeadlineSet = false
                respond(to: request, on: connection)
            }
        }
    }

    private func respond(to request: HTTPRequestHead, on connection: Connection) {
        let keepAlive = request.keepAlive && !draining && !peerClosed
        let isHead = request.method == "HEAD"
        var record = AccessRecord(request: "\(request.method) \(request.target)", started: DispatchTime.now().uptimeNanoseconds)
        guard request.method == "GET" || isHead else {
            return sendError(.methodNotAllowed, on: connection, keepAlive: keepAlive, head: false,
                             extra: [("Allow", "GET, HEAD")], record: &record)
        }
        guard let path = request.path else {
            return sendError(.badRequest, on: connection, keepAlive: false, head: isHead, record: &record)
        }
        switch RequestPath(path) {
        case .invalid:
            sendError(.badRequest, on: connection, keepAlive: keepAlive, head: isHead, record: &record)
        case .hidden:
            sendError(.notFound, on: connection, keepAlive: keepAlive, head: isHead, record: &record)
        case .file(let segments, let directorySyntax):
            switch config.files.lookup(segments, directorySyntax: directorySyntax) {
            case .redirect(let location):
                sendError(.movedPermanently, on: connection, keepAlive: keepAlive, head: isHead,
                          extra: [("Location", location)], record: &record)
            case .notFound:
                sendError(.notFound, on: connection, keepAlive: keepAlive, head: isHead, record: &record)
            case .forbidden:
                sendError(.forbidden, on: connection, keepAlive: keepAlive, head: isHead, record: &record)
            case .failed(let errno):
                config.logger.error("http \(connection.id) cannot open \(path): \(String(cString: strerror(errno)))")
                sendError(.internalServerError, on: connection, keepAlive: keepAlive, head: isHead, record: &record)
            case .file(let file, let metadata, let relativePath):
                sendFile(file, metadata, relativePath, for: request, on: connection, keepAlive: keepAlive, record: record)
            }
        }
    }

    private func sendFile(_ file: FileDescriptor, _ metadata: FileMetadata, _ relativePath: String,
                          for request: HTTPRequestHead, on connection: Connection, keepAlive: Bool, record: AccessRecord) {
        var record = record
        let isHead = request.method == "HEAD"
        let type = MIMETypes.lookup(relativePath)
        var precompressed: (FileDescriptor, FileMetadata)?
        if !relativePath.hasSuffix(".gz"), AcceptEncoding.allowsGzip(request.header("accept-encoding")) {
            precompressed = config.files.precompressed(relativePath, original: metadata)
        }
        let plan = ResponsePlan(request: request, file: metadata, type: type, precompressed: precompressed?.1,
                                gzipMinLength: config.gzipMinLength)
        record.status = plan.status
        switch plan.body {
        case .none:
            connection.write(HTTPResponseHead.bytes(plan.status, headers: plan.headers, keepAlive: keepAlive, http10: request.minorVersion == 0))
            finish(record, keepAlive: keepAlive, on: connection)
        case .errorPage:
            sendError(plan.status, on: connection, keepAlive: keepAlive, head: isHead, extra: plan.headers, record: &record)
        case .file(let offset, let length, let fromPrecompressed):
            let source = fromPrecompressed ? (precompressed?.0 ?? file) : file
            var bytes = HTTPResponseHead.bytes(plan.status, headers: plan.headers, keepAlive: keepAlive, http10: request.minorVersion == 0)
            if isHead {
                connection.write(bytes)
            } else if length <= config.inlineFileLimit {
                let headLength = bytes.count
                bytes.append(contentsOf: repeatElement(0, count: Int(length)))
                let n = bytes.withUnsafeMutableBytes { pread(source.fd, $0.baseAddress! + headLength, Int(length), off_t(offset)) }
                connection.write(bytes)
                // A file that shrank since fstat cannot meet its Content-Length: end the connection.
                if n != Int(length) { return connection.close() }
                record.bytes = length
            } else {
                connection.write(bytes)
                connection.write(file: source, offset: offset, count: length)
                record.bytes = length
            }
            finish(record, keepAlive: keepAlive, on: connection)
        case .gzipStream:
            let headers = plan.headers + [("Transfer-Encoding", "chunked")]
            connection.write(HTTPResponseHead.bytes(plan.status, headers: headers, keepAlive: keepAlive, http10: false))
            guard !isHead else { return finish(record, keepAlive: keepAlive, on: connection) }
            guard let gzip = GzipStream(file: file, length: metadata.size, level: config.gzipLevel) else {
                config.logger.error("http \(connection.id) zlib failed to start")
                return connection.close()
            }
            stream = Stream(gzip: gzip, record: record, keepAlive: keepAlive)
            pump(connection)
        }
    }

    /// Compresses and queues chunks until the high-water mark, then waits for the peer.
    private func pump(_ connection: Connection) {
        while var current = stream {
            if connection.pendingOutputBytes >= config.highWater {
                connection.notifyWhenWritable()
                return
            }
            switch current.gzip.next() {
            case .data(let data):
                var chunk = Array((String(data.count, radix: 16) + "\r\n").utf8)
                chunk.append(contentsOf: data)
                chunk.append(contentsOf: [0x0D, 0x0A])
                connection.write(chunk)
                current.record.bytes += Int64(data.count)
                stream = current
            case .end:
                connection.write(Array("0\r\n\r\n".utf8))
                stream = nil
                finish(current.record, keepAlive: current.keepAlive, on: connection)
                serve(connection)
            case .failed:
                stream = nil
                config.logger.error("http \(connection.id) read failed while compressing \(current.record.request)")
                connection.close()
            }
        }
    }

    private func sendError(_ status: HTTPStatus, on connection: Connection, keepAlive: Bool, head: Bool,
                           extra: [(String, String)] = [], record: inout AccessRecord) {
        let body = HTTPResponseHead.errorPage(status)
        var headers = extra
        headers.append(("Content-Type", "text/html; charset=utf-8"))
        headers.append(("Content-Length", String(body.count)))
        var bytes = HTTPResponseHead.bytes(status, headers: headers, keepAlive: keepAlive, http10: false)
        if !head {
            bytes.append(contentsOf: body)
            record.bytes = Int64(body.count)
        }
        connection.write(bytes)
        record.status = status
        finish(record, keepAlive: keepAlive, on: connection)
    }

    private func finish(_ record: AccessRecord, keepAlive: Bool, on connection: Connection) {
        let micros = (DispatchTime.now().uptimeNanoseconds - record.started) / 1000
        let millis = "\(micros / 1000).\(micros % 1000 / 100)"
        config.logger.info("http \(connection.id) \"\(record.request)\" \(record.status.rawValue) \(record.bytes) \(millis)ms")
        if !keepAlive { connection.closeAfterFlush() }
    }
}
