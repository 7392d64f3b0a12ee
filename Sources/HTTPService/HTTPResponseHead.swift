/// Serialises a response's status line and header section.
enum HTTPResponseHead {
    static func bytes(_ status: HTTPStatus, headers: [(String, String)], keepAlive: Bool, http10: Bool, extra: [UInt8] = []) -> [UInt8] {
        bytes(status, lines: lines(headers), keepAlive: keepAlive, http10: http10, extra: extra)
    }

    /// Header fields as they follow the Date line: each `\r\nName: value`.
    static func lines(_ headers: [(String, String)]) -> [UInt8] {
        var out: [UInt8] = []
        for (name, value) in headers {
            out += "\r\n".utf8
            out += name.utf8
            out += ": ".utf8
            out += value.utf8
        }
        return out
    }

    /// The head with header fields already serialised by `lines`.
    /// `extra`: fields every response of the service carries (HSTS), serialised the same way.
    static func bytes(_ status: HTTPStatus, lines: [UInt8], keepAlive: Bool, http10: Bool, extra: [UInt8] = []) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + lines.count + extra.count)
        // Byte by byte rather than by interpolation: this runs for every response, and an
        // interpolated String costs a formatted Int and a growing buffer each time.
        let code = status.rawValue
        out += "HTTP/1.1 ".utf8
        // Every HTTPStatus is three digits.
        out.append(UInt8(truncatingIfNeeded: 0x30 + code / 100))
        out.append(UInt8(truncatingIfNeeded: 0x30 + code / 10 % 10))
        out.append(UInt8(truncatingIfNeeded: 0x30 + code % 10))
        out.append(0x20)
        out += status.reason.utf8
        out += "\r\nServer: appserver\r\nDate: ".utf8
        out += HTTPDate.now().utf8
        out += lines
        out += extra
        if !keepAlive {
            out += "\r\nConnection: close".utf8
        } else if http10 {
            out += "\r\nConnection: keep-alive".utf8
        }
        out += "\r\n\r\n".utf8
        return out
    }

    static func errorPage(_ status: HTTPStatus) -> [UInt8] {
        let title = "\(status.rawValue) \(status.reason)"
        return Array("<!DOCTYPE html>\n<html><head><title>\(title)</title></head><body><h1>\(title)</h1><hr>appserver</body></html>\n".utf8)
    }
}
