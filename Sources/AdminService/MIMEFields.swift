import ServerCore

/// A structured header's value: `type/subtype; name=value; name="quoted value"` (RFC 2045
/// 5.1), the token lower-cased, parameter names lower-cased.
struct HeaderValue {
    let token: String
    let parameters: [String: String]

    init(_ text: String) {
        var pieces: [String] = []
        var current = "", quoted = false, escaped = false
        for c in text {
            if escaped { current.append(c); escaped = false; continue }
            if quoted && c == "\\" { escaped = true; continue }
            if c == "\"" { quoted.toggle(); continue }
            if c == ";" && !quoted { pieces.append(current); current = ""; continue }
            current.append(c)
        }
        pieces.append(current)
        token = String((pieces.first ?? "").trimmingBlanks).lowercased()
        var parameters: [String: String] = [:]
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            let name = String(piece[..<equals].trimmingBlanks).lowercased()
            if parameters[name] == nil { parameters[name] = String(piece[piece.index(after: equals)...].trimmingBlanks) }
        }
        self.parameters = parameters
    }
}

/// Content-Transfer-Encoding (RFC 2045 6): base64 and quoted-printable decoded, leniently
/// (what does not decode is skipped), anything else as it is.
enum TransferEncoding {
    static func decode(_ body: ArraySlice<UInt8>, _ encoding: String) -> [UInt8] {
        switch encoding {
        case "base64": return Base64.decodeSkipping(body)
        case "quoted-printable": return quotedPrintable(body, underscoreIsSpace: false)
        default: return Array(body)
        }
    }

    static func quotedPrintable(_ body: some Collection<UInt8>, underscoreIsSpace: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count)
        var bytes = Array(body)[...]
        while let byte = bytes.popFirst() {
            if byte == UInt8(ascii: "_") && underscoreIsSpace { out.append(0x20); continue }
            guard byte == UInt8(ascii: "=") else { out.append(byte); continue }
            // A soft line break: `=` at a line's end.
            if bytes.first == 0x0D { bytes = bytes.dropFirst() }
            if bytes.first == 0x0A { bytes = bytes.dropFirst(); continue }
            guard let high = bytes.first?.hexDigitValue, let low = bytes.dropFirst().first?.hexDigitValue else {
                out.append(byte)
                continue
            }
            out.append(high << 4 | low)
            bytes = bytes.dropFirst(2)
        }
        return out
    }
}

/// RFC 2047 encoded words in headers (`=?UTF-8?B?...?=`, `=?ISO-8859-1?Q?...?=`): B and Q
/// decoded, UTF-8 and Latin-1 charsets read as such, any other charset as UTF-8.
enum EncodedWords {
    static func decode(_ text: String) -> String {
        guard text.contains("=?") else { return text }
        var out = "", rest = Substring(text), lastWasWord = false
        while let start = rest.firstRange(of: "=?") {
            let before = rest[..<start.lowerBound]
            let after = rest[start.upperBound...]
            let fields = after.split(separator: "?", maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count == 4, fields[3].hasPrefix("="), let encoding = fields[1].first else {
                out += before + "=?"
                rest = after
                lastWasWord = false
                continue
            }
            // Blanks between two encoded words are not part of the text (RFC 2047 6.2).
            if !(lastWasWord && before.allSatisfy { $0 == " " || $0 == "\t" }) { out += before }
            let payload = Array(fields[2].utf8)
            let bytes = encoding == "B" || encoding == "b" ? Base64.decodeSkipping(payload)
                : TransferEncoding.quotedPrintable(payload, underscoreIsSpace: true)
            out += fields[0].lowercased().hasPrefix("iso-8859-1") || fields[0].lowercased() == "latin1"
                ? String(bytes.map { Character(Unicode.Scalar($0)) }) : String(decoding: bytes, as: UTF8.self)
            rest = fields[3].dropFirst()
            lastWasWord = true
        }
        return out + rest
    }
}
