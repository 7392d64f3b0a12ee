/// One answer of the admin listener: a status, a type and a body, with the headers every
/// admin answer carries (no caching, no sniffing, a content security policy that allows
/// the console's own script and style and nothing from elsewhere).
public struct AdminResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    public var headers: [(String, String)] = []

    public init(status: Int = 200, contentType: String, body: [UInt8], headers: [(String, String)] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }

    public init(status: Int = 200, contentType: String, text: String) {
        self.init(status: status, contentType: contentType, body: Array(text.utf8))
    }

    public static func == (a: AdminResponse, b: AdminResponse) -> Bool {
        a.status == b.status && a.contentType == b.contentType && a.body == b.body
            && a.headers.map { $0.0 + ":" + $0.1 } == b.headers.map { $0.0 + ":" + $0.1 }
    }

    public static func plain(_ status: Int, _ text: String) -> AdminResponse {
        AdminResponse(status: status, contentType: "text/plain; charset=utf-8", text: text + "\n")
    }

    static let reasons = [200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
                          503: "Service Unavailable"]

    /// Status line, headers and (unless `head`) the body.
    func bytes(keepAlive: Bool, head: Bool) -> [UInt8] {
        var text = "HTTP/1.1 \(status) \(AdminResponse.reasons[status] ?? "Error")\r\nServer: appserver\r\n"
        text += "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\nCache-Control: no-store\r\n"
        text += "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
        text += "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; frame-src 'self'; frame-ancestors 'none'\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if !keepAlive { text += "Connection: close\r\n" }
        text += "\r\n"
        var out = Array(text.utf8)
        if !head { out += body }
        return out
    }
}
