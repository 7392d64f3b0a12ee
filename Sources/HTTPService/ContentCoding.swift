import ServerCore

/// How a file's body goes to one request, decided here and nowhere else (nginx's order):
/// as it is unless the client takes gzip; then a fresh `.gz` sibling; then, for a
/// compressible file worth compressing, the gzip cache's copy or, over the cache's limit,
/// compression while sending (HTTP/1.1 without Range only: 1.0 has no chunked framing, and
/// ranges of an encoding made while sending cannot be served).
enum ContentCoding {
    case identity
    /// gzip made ahead of time, with its own size and validators: a `.gz` file, or the
    /// cache's bytes (`contents`, with no file). Served like the file itself, ranges too;
    /// `headers`, when the cache prepared them, are those of a 200 that sends it whole.
    case stored(file: FileDescriptor?, metadata: FileMetadata, contents: [UInt8]?, headers: [UInt8]?)
    case onTheFly

    /// `sibling` and `cached` are asked only when the decision reaches them: each may do
    /// I/O (an open, a compression bounded by `GzipCache.fileLimit`).
    static func choose(for request: HTTPRequestHead, path: String, size: Int64, compressible: @autoclosure () -> Bool,
                       minLength: Int64, sibling: () -> ContentCoding?, cached: () -> ContentCoding?) -> ContentCoding {
        guard request.acceptsGzip, !path.hasSuffix(".gz") else { return .identity }
        if let sibling = sibling() { return sibling }
        guard size >= minLength, compressible() else { return .identity }
        if let cached = cached() { return cached }
        return request.minorVersion >= 1 && request.header("range") == nil ? .onTheFly : .identity
    }

    /// What `ResponsePlan` needs to know of it.
    var plan: ResponsePlan.Coding {
        switch self {
        case .identity: .identity
        case .stored(_, let metadata, _, _): .stored(metadata)
        case .onTheFly: .onTheFly
        }
    }
}
