/// JSON string literals (RFC 8259 7): `"`, `\` and control characters escaped, the rest
/// as it is (the output is UTF-8). For the JSON log format and the console's data.
public enum JSONText {
    /// `text` as a quoted JSON string.
    public static func quoted<Text: StringProtocol>(_ text: Text) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = [0x22]
        out.reserveCapacity(text.utf8.count + 2)
        for byte in text.utf8 {
            switch byte {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, UInt8(ascii: "n")]
            case 0x0D: out += [0x5C, UInt8(ascii: "r")]
            case 0x09: out += [0x5C, UInt8(ascii: "t")]
            case ..<0x20:
                out += Array("\\u00".utf8)
                out += [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(0x22)
        return String(decoding: out, as: UTF8.self)
    }

    /// `"key":value,...` from pairs whose values are already JSON.
    public static func fields(_ pairs: [(String, String)]) -> String {
        pairs.map { quoted($0.0) + ":" + $0.1 }.joined(separator: ",")
    }
}
