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

    /// The encoding `ContentCoding` chose, as far as the plan depends on it.
    public enum Coding: Sendable, Equatable {
        case identity
        /// gzip made ahead of time, with its own size and modification time.
        case stored(FileMetadata)
        case onTheFly
    }

    public init(request: HTTPRequestHead, file: FileMetadata, type: MIMETypes.Entry, coding: Coding) {
        let (representation, etag, sent) = Self.representation(file, type, coding)
        var headers = representation
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
        if coding == .onTheFly {
            self.init(status: .ok, headers: headers, body: .gzipStream)
            return
        }
        let compressed = coding != .identity
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

    /// The headers of a 200 to a GET with no precondition or range, sending `coding` whole
    /// (not `.onTheFly`): what `StaticFiles` prepares once per opened file, and `GzipCache`
    /// once per encoding.
    public static func wholeHeaders(file: FileMetadata, type: MIMETypes.Entry, coding: Coding) -> [(String, String)] {
        let (headers, _, sent) = representation(file, type, coding)
        return headers + [("Content-Length", String(sent.size))]
    }

    /// The headers that describe what is sent (before preconditions and ranges), its ETag,
    /// and its metadata.
    private static func representation(_ file: FileMetadata, _ type: MIMETypes.Entry, _ coding: Coding)
        -> (headers: [(String, String)], etag: String, sent: FileMetadata) {
        let sent: FileMetadata
        let etag: String
        switch coding {
        case .stored(let stored):
            sent = stored
            etag = "\"\(stored.etagBase)-gz\""
        case .onTheFly:
            sent = file
            etag = "W/\"\(file.etagBase)-gzip\""
        case .identity:
            sent = file
            etag = "\"\(file.etagBase)\""
        }
        var headers: [(String, String)] = []
        headers.append(("Content-Type", type.type))
        headers.append(("Last-Modified", file.lastModified))
        headers.append(("ETag", etag))
        if type.compressible || coding != .identity { headers.append(("Vary", "Accept-Encoding")) }
        if coding != .identity { headers.append(("Content-Encoding", "gzip")) }
        if coding != .onTheFly { headers.append(("Accept-Ranges", "bytes")) }
        return (headers, etag, sent)
    }

    public init(status: HTTPStatus, headers: [(String, String)], body: Body) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}
