import ServerCore

/// A received mail as the console shows it (RFC 5322 and MIME, RFC 2045-2047): its
/// headers, its first text/plain and text/html bodies, and its attachments by name, type
/// and size. Bounded: at most `maxBytes` of the message are read, parts nest at most
/// `maxDepth` deep and at most `maxParts` are looked at; what lies beyond is left out, and
/// nothing in the input can make it trap.
public struct MIMEMessage: Sendable, Equatable {
    public struct Attachment: Sendable, Equatable {
        public let name: String
        public let type: String
        public let size: Int

        public init(name: String, type: String, size: Int) {
            self.name = name
            self.type = type
            self.size = size
        }
    }

    public static let maxBytes = 4 * 1024 * 1024
    static let maxDepth = 5
    static let maxParts = 100
    static let maxHeaders = 200

    public var headers: [(name: String, value: String)] = []
    public var text: String?
    public var html: String?
    public var attachments: [Attachment] = []
    private var parts = 0

    public init(_ raw: [UInt8]) {
        let bytes = raw.prefix(MIMEMessage.maxBytes)
        let (headers, body) = MIMEMessage.split(Array(bytes))
        self.headers = headers
        walk(headers: headers, body: body, depth: 0)
    }

    public static func == (a: MIMEMessage, b: MIMEMessage) -> Bool {
        a.headers.map { $0.name + ":" + $0.value } == b.headers.map { $0.name + ":" + $0.value }
            && a.text == b.text && a.html == b.html && a.attachments == b.attachments
    }

    /// The first value of a header (names compare without case), decoded (RFC 2047).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }.map { EncodedWords.decode($0.value) }
    }

    private mutating func walk(headers: [(name: String, value: String)], body: ArraySlice<UInt8>, depth: Int) {
        parts += 1
        guard parts <= MIMEMessage.maxParts else { return }
        let type = HeaderValue(MIMEMessage.value("content-type", in: headers) ?? "text/plain")
        let disposition = HeaderValue(MIMEMessage.value("content-disposition", in: headers) ?? "")
        let encoding = (MIMEMessage.value("content-transfer-encoding", in: headers) ?? "").lowercased()
        if type.token.hasPrefix("multipart/"), let boundary = type.parameters["boundary"], !boundary.isEmpty {
            guard depth < MIMEMessage.maxDepth else { return }
            for part in MIMEMessage.parts(of: body, boundary: Array(boundary.utf8)) {
                let (partHeaders, partBody) = MIMEMessage.split(Array(part))
                walk(headers: partHeaders, body: partBody, depth: depth + 1)
            }
            return
        }
        let decoded = TransferEncoding.decode(body, encoding)
        let name = disposition.parameters["filename"] ?? type.parameters["name"]
        if disposition.token == "attachment" || name != nil || !type.token.hasPrefix("text/") {
            attachments.append(Attachment(name: EncodedWords.decode(name ?? "unnamed"), type: type.token, size: decoded.count))
        } else if type.token == "text/html", html == nil {
            html = String(decoding: decoded, as: UTF8.self)
        } else if text == nil, type.token == "text/plain" {
            text = String(decoding: decoded, as: UTF8.self)
        }
    }

    static func value(_ name: String, in headers: [(name: String, value: String)]) -> String? {
        headers.first { $0.name.lowercased() == name }?.value
    }

    /// Headers (continuation lines unfolded) and the body after the blank line.
    static func split(_ bytes: [UInt8]) -> ([(name: String, value: String)], ArraySlice<UInt8>) {
        var headers: [(name: String, value: String)] = []
        var index = 0
        while index < bytes.count {
            var end = index
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            var line = bytes[index..<end]
            if line.last == 0x0D { line = line.dropLast() }
            index = end + 1
            if line.isEmpty { return (headers, bytes[min(index, bytes.count)...]) }
            let text = String(decoding: line, as: UTF8.self)
            if line.first == 0x20 || line.first == 0x09 {
                if !headers.isEmpty { headers[headers.count - 1].value += " " + String(text.trimmingBlanks) }
            } else if let colon = text.firstIndex(of: ":"), headers.count < maxHeaders {
                headers.append((String(text[..<colon].trimmingBlanks), String(text[text.index(after: colon)...].trimmingBlanks)))
            }
        }
        return (headers, [])
    }

    /// The parts between `--boundary` lines, up to `--boundary--`.
    static func parts(of body: ArraySlice<UInt8>, boundary: [UInt8]) -> [ArraySlice<UInt8>] {
        let delimiter = [UInt8(ascii: "-"), UInt8(ascii: "-")] + boundary
        var found: [ArraySlice<UInt8>] = []
        var partStart: Int?
        var index = body.startIndex
        while index < body.endIndex, found.count < maxParts {
            var end = index
            while end < body.endIndex && body[end] != 0x0A { end += 1 }
            let line = body[index..<end]
            if line.starts(with: delimiter) {
                if let start = partStart {
                    // The CRLF before the delimiter belongs to it (RFC 2046 5.1.1).
                    var stop = index
                    if stop > start, body[stop - 1] == 0x0A { stop -= 1 }
                    if stop > start, body[stop - 1] == 0x0D { stop -= 1 }
                    found.append(body[start..<stop])
                }
                let rest = line.dropFirst(delimiter.count)
                if rest.starts(with: [UInt8(ascii: "-"), UInt8(ascii: "-")]) { return found }
                partStart = min(end + 1, body.endIndex)
            }
            index = end + 1
        }
        return found
    }
}
