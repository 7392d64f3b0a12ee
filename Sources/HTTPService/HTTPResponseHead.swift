/// Serialises a response's status line and header section.
enum HTTPResponseHead {
    static func bytes(_ status: HTTPStatus, headers: [(String, String)], keepAlive: Bool, http10: Bool) -> [UInt8] {
        var text = "HTTP/1.1 \(status.rawValue) \(status.reason)\r\nServer: appserver\r\nDate: \(HTTPDate.now())\r\n"
        for (name, value) in headers {
            text += name
            text += ": "
            text += value
            text += "\r\n"
        }
        if !keepAlive {
            text += "Connection: close\r\n"
        } else if http10 {
            text += "Connection: keep-alive\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    static func errorPage(_ status: HTTPStatus) -> [UInt8] {
        let title = "\(status.rawValue) \(status.reason)"
        return Array("<!DOCTYPE html>\n<html><head><title>\(title)</title></head><body><h1>\(title)</h1><hr>appserver</body></html>\n".utf8)
    }
}
