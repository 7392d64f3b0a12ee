import ServerCore
/// The size and modification time of a file, and the validators made from them (once
/// per open, which the open-file cache then shares between requests).
public struct FileMetadata: Sendable, Equatable {
    public let size: Int64
    /// Seconds since the epoch.
    public let modified: Int
    /// `"mtime-size"` in hex, as nginx writes it: strong, since it changes with the bytes.
    public let etagBase: String
    public let lastModified: String

    public init(size: Int64, modified: Int) {
        self.size = size
        self.modified = modified
        etagBase = String(modified, radix: 16) + "-" + String(size, radix: 16)
        lastModified = HTTPDate.format(modified)
    }
}

/// Conditional requests (RFC 9110 13): If-Match, If-Unmodified-Since, If-None-Match,
/// If-Modified-Since, evaluated in the order of 13.2.2, and If-Range.
public enum Preconditions {
    public enum Outcome: Equatable, Sendable { case proceed, notModified, failed }

    public static func evaluate(_ request: HTTPRequestHead, etag: String, modified: Int) -> Outcome {
        if let ifMatch = request.header("if-match") {
            if !matches(ifMatch, etag, weak: false) { return .failed }
        } else if let since = request.header("if-unmodified-since").flatMap(HTTPDate.parse), modified > since {
            return .failed
        }
        if let ifNoneMatch = request.header("if-none-match") {
            if matches(ifNoneMatch, etag, weak: true) { return .notModified }
        } else if let since = request.header("if-modified-since").flatMap(HTTPDate.parse), modified <= since {
            return .notModified
        }
        return .proceed
    }

    /// Whether a Range may be honoured: If-Range names the current entity (strongly) or
    /// exactly its Last-Modified date.
    public static func rangeApplies(_ request: HTTPRequestHead, etag: String, modified: Int) -> Bool {
        guard let ifRange = request.header("if-range") else { return true }
        if ifRange.hasPrefix("\"") || ifRange.hasPrefix("W/") { return matches(ifRange, etag, weak: false) }
        return HTTPDate.parse(ifRange) == modified
    }

    /// Whether a list of entity tags (or `*`) matches `etag`, by weak or strong comparison.
    static func matches(_ list: String, _ etag: String, weak: Bool) -> Bool {
        let current = opaque(etag)
        for candidate in list.split(separator: ",").map(\.trimmingBlanks) {
            if candidate == "*" { return true }
            let isWeak = candidate.hasPrefix("W/")
            if !weak && (isWeak || current.weak) { continue }
            if opaque(candidate).tag == current.tag { return true }
        }
        return false
    }

    private static func opaque<S: StringProtocol>(_ tag: S) -> (tag: Substring, weak: Bool) {
        tag.hasPrefix("W/") ? (Substring(tag.dropFirst(2)), true) : (Substring(tag), false)
    }
}
