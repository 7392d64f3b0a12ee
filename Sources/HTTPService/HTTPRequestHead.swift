import ServerCore
/// A parsed request line and header section. Header names are kept lower-cased.
public struct HTTPRequestHead: Sendable, Equatable {
    public var method: String
    public var target: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1 (and later 1.x, which are answered as 1.1).
    public var minorVersion: Int
    public let headers: [Header]
    /// Whether Accept-Encoding allows gzip, worked out once here for the several places
    /// that ask.
    public let acceptsGzip: Bool

    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String
    }

    public init(method: String, target: String, minorVersion: Int, headers: [Header]) {
        self.method = method
        self.target = target
        self.minorVersion = minorVersion
        self.headers = headers
        acceptsGzip = AcceptEncoding.allowsGzip(HTTPRequestHead.value(of: "accept-encoding", in: headers))
    }

    /// All values of a header joined as a comma-separated list (RFC 9110 5.3), or nil.
    public func header(_ name: String) -> String? {
        HTTPRequestHead.value(of: name, in: headers)
    }

    private static func value(of name: String, in headers: [Header]) -> String? {
        var joined: String?
        for header in headers where header.name == name {
            joined = joined.map { $0 + ", " + header.value } ?? header.value
        }
        return joined
    }

    /// Whether the request has no precondition and no range: its answer, once the body's
    /// coding is known, depends on the file alone (and can use headers prepared with it).
    var isUnconditional: Bool {
        for header in headers {
            if header.name.hasPrefix("if-") || header.name == "range" { return false }
        }
        return true
    }

    /// Whether the connection stays open after this request (RFC 9112 9.3).
    public var keepAlive: Bool {
        guard let connection = header("connection") else { return minorVersion >= 1 }
        let tokens = connection.lowercased().split(separator: ",").map { $0.trimmingBlanks }
        if tokens.contains("close") { return false }
        return minorVersion >= 1 || tokens.contains("keep-alive")
    }

    /// The path of an origin-form or absolute-form target, without the query.
    public var path: Substring? {
        var rest = Substring(target)
        if rest.utf8.first != 0x2F && (rest.hasPrefix("http://") || rest.hasPrefix("https://")) {
            rest = rest.drop { $0 != ":" }.dropFirst(3)
            rest = rest.firstIndex(of: "/").map { rest[$0...] } ?? "/"
        }
        guard rest.utf8.first == 0x2F else { return nil }
        guard let end = rest.utf8.firstIndex(where: { $0 == 0x3F || $0 == 0x23 }) else { return rest }
        return rest[..<end]
    }
}
