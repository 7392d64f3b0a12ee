import HTTPService

/// What a request head decides for a file: its path (RequestPath), Range, Accept-Encoding,
/// preconditions and dates, and the whole ResponsePlan, for a few file sizes and each
/// coding (as is, stored gzip, gzip while sending). The input is a request head; whatever
/// the parser accepts is planned, and each answer is checked against the file it is about.
enum HTTPFieldsTarget {
    static let target = FuzzTarget(name: "http-fields", summary: "request path, Range, Accept-Encoding, preconditions, response plan") {
        run
    }

    static let sizes: [Int64] = [0, 1, 300, 1 << 40]
    static let modified = 1_764_000_000
    static let types = [MIMETypes.lookup("index.html"), MIMETypes.lookup("photo.jpg")]

    static func run(_ data: UnsafeRawBufferPointer) {
        var parser = HTTPRequestParser()
        parser.append(data)
        parser.append(Array("\r\n\r\n".utf8))
        guard case .request(let head) = parser.next() else { return }

        if let path = head.path { checkPath(path) }
        require(head.acceptsGzip == AcceptEncoding.allowsGzip(head.header("accept-encoding")), "acceptsGzip disagrees")
        for name in ["if-modified-since", "if-unmodified-since", "if-range", "date"] {
            if let value = head.header(name) { checkDate(value) }
        }
        for (index, size) in sizes.enumerated() {
            checkRange(head.header("range"), length: size)
            let file = FileMetadata(size: size, modified: modified - index)
            let stored = FileMetadata(size: size / 3, modified: modified)
            for type in types {
                for coding in [ResponsePlan.Coding.identity, .stored(stored), .onTheFly] {
                    check(ResponsePlan(request: head, file: file, type: type, coding: coding), file: file, stored: stored)
                }
            }
        }
    }

    /// A path below the root never climbs out of it, names no dotfile, and spelled again
    /// with `RequestPath.encode` names the same file.
    static func checkPath(_ path: Substring) {
        guard case .file(let relative, _) = RequestPath(path) else { return }
        // Split on the bytes the server splits on: as Characters, a "/" followed by a
        // combining mark is one grapheme and no separator (a false finding, once).
        let segments = relative.utf8.split(separator: 0x2F, omittingEmptySubsequences: false).map { Array($0) }
        require(relative.isEmpty || !segments.contains(where: \.isEmpty), "empty segment in \(relative)")
        require(!segments.contains { $0 == [0x2E, 0x2E] || $0 == [0x2E] }, "dot segment in \(relative)")
        require(!segments.contains { $0.first == 0x2E && $0 != Array(".well-known".utf8) }, "dotfile in \(relative)")
        require(!relative.utf8.contains(0) && !relative.utf8.contains(0x5C), "NUL or backslash in \(relative)")
        let again = RequestPath(Substring(RequestPath.encode(relative)))
        require(again == .file(relative: relative, directorySyntax: relative.isEmpty), "\(relative) encoded reads as \(again)")
    }

    /// A date read from a header, written out and read again, is the same second (up to the
    /// year 9999: dates have four-digit years).
    static func checkDate(_ text: String) {
        guard let seconds = HTTPDate.parse(text), seconds < 253_402_300_800 else { return }
        require(HTTPDate.parse(HTTPDate.format(seconds)) == seconds, "\(text) -> \(seconds) does not read back")
    }

    static func checkRange(_ header: String?, length: Int64) {
        guard case .partial(let offset, let count) = ByteRange(header: header, length: length) else { return }
        require(offset >= 0 && count >= 1 && offset <= length - count, "range \(offset)+\(count) outside \(length)")
    }

    /// The body lies inside what is sent, and the length and range headers say what it is.
    static func check(_ plan: ResponsePlan, file: FileMetadata, stored: FileMetadata) {
        let header = { (name: String) in plan.headers.first { $0.0 == name }?.1 }
        guard case .file(let offset, let length, let compressed) = plan.body else { return }
        let size = compressed ? stored.size : file.size
        require(offset >= 0 && length >= 0 && offset <= size - length, "body \(offset)+\(length) outside \(size)")
        require(header("Content-Length") == String(length), "Content-Length \(header("Content-Length") ?? "-") for \(length)")
        if plan.status == .partialContent {
            require(header("Content-Range") == "bytes \(offset)-\(offset + length - 1)/\(size)", "Content-Range \(header("Content-Range") ?? "-")")
        } else {
            require(offset == 0 && length == size, "\(plan.status) sends \(offset)+\(length) of \(size)")
        }
    }
}
