/// What to send for a GET or HEAD of a file: status, headers and where the body comes
/// from, decided from the request and the file's metadata alone (no I/O), in the order
/// nginx and Caddy decide it: representation, validators, preconditions, range.
public struct ResponsePlan: Sendable, Equatable {
    public enum Body: Sendable, Equatable {
        case none
        /// Bytes of the file (or of its precompressed `.gz` sibling when `precompressed`).
        case file(offset: Int64, length: Int64, precompressed: Bool)
        /// The file compressed on the fly, sent chunked.
        case gzipStream
        /// A small HTML page describing the status.
        case errorPage
    }

    public var status: HTTPStatus
    public var headers: [(String, String)]
    public var body: Body

    public static func == (a: ResponsePlan, b: ResponsePlan) -> Bool {
        a.status == b.status && a.body == b.body && a.headers.elementsEqual(b.headers, by: ==)
    }

    public init(request: HTTPRequestHead, file: FileMetadata, type: MIMETypes.Entry,
                precompressed: FileMetadata?, gzipMinLength: Int64) {
        let acceptsGzip = request.acceptsGzip
        let sent: FileMetadata
        let etag: String
        var headers: [(String, String)] = []
        var onTheFly = false
        if acceptsGzip, let precompressed {
            sent = precompressed
            etag = "\"\(precompressed.etagBase)-gz\""
        } else if acceptsGzip && type.compressible && file.size >= gzipMinLength
                    && request.minorVersion >= 1 && request.header("range") == nil {
            // Ranges of an on-the-fly encoding cannot be served, so a Range request gets identity.
            sent = file
            onTheFly = true
            etag = "W/\"\(file.etagBase)-gzip\""
        } else {
            sent = file
            etag = "\"\(file.etagBase)\""
        }
        headers.append(("Content-Type", type.type))
        headers.append(("Last-Modified", file.lastModified))
        headers.append(("ETag", etag))
        if type.compressible || precompressed != nil { headers.append(("Vary", "Accept-Encoding")) }
        if sent != file || onTheFly { headers.append(("Content-Encoding", "gzip")) }
        if !onTheFly { headers.append(("Accept-Ranges", "bytes")) }

        switch Preconditions.evaluate(request, etag: etag, modified: file.modified) {
        case .notModified:
            self.init(status: .notModified, headers: headers.filter { $0.0 != "Content-Type" && $0.0 != "Content-Encoding" && $0.0 != "Accept-Ranges" }, body: .none)
            return
        case .failed:
            self.init(status: .preconditionFailed, headers: [], body: .errorPage)
            return
        case .proceed:
            break
        }
        if onTheFly {
            self.init(status: .ok, headers: headers, body: .gzipStream)
            return
        }
        let compressed = sent != file
        var range = ByteRange.full
        if request.method == "GET" && Preconditions.rangeApplies(request, etag: etag, modified: file.modified) {
            range = ByteRange(header: request.header("range"), length: sent.size)
        }
        switch range {
        case .full:
            headers.append(("Content-Length", String(sent.size)))
            self.init(status: .ok, headers: headers, body: .file(offset: 0, length: sent.size, precompressed: compressed))
        case .partial(let offset, let length):
            headers.append(("Content-Range", "bytes \(offset)-\(offset + length - 1)/\(sent.size)"))
            headers.append(("Content-Length", String(length)))
            self.init(status: .partialContent, headers: headers, body: .file(offset: offset, length: length, precompressed: compressed))
        case .unsatisfiable:
            self.init(status: .rangeNotSatisfiable, headers: [("Content-Range", "bytes */\(sent.size)")], body: .errorPage)
        }
    }

    public init(status: HTTPStatus, headers: [(String, String)], body: Body) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}
