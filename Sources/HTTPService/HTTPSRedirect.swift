extension HTTPSession {
    /// The host a redirect to https names: the request's Host without its port, when it is
    /// a plain name or address (anything else could smuggle text into Location), else the
    /// address the request came to.
    func redirectHost(_ request: HTTPRequestHead) -> String {
        if let host = request.header("host") {
            let bytes = Array(host.utf8)
            if bytes.first == 0x5B, let close = bytes.firstIndex(of: 0x5D) {
                let inner = bytes[1..<close]
                if !inner.isEmpty, inner.allSatisfy(Self.isAddressByte) { return "[" + String(decoding: inner, as: UTF8.self) + "]" }
            } else {
                let name = bytes.prefix { $0 != 0x3A }
                if !name.isEmpty, name.allSatisfy(Self.isNameByte) { return String(decoding: name, as: UTF8.self) }
            }
        }
        let local = id.local.ip
        return local.isIPv6 ? "[\(local)]" : "\(local)"
    }

    private static func isAddressByte(_ byte: UInt8) -> Bool { byte == 0x3A || byte == 0x2E || byte.hexDigitValue != nil }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        let lower = byte | 0x20
        return (lower >= 0x61 && lower <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x2E
    }
}
