/// JSON string literals (RFC 8259 7): `"`, `\` and control characters escaped, the rest
/// as it is (the output is UTF-8). For the JSON log format and the console's data.
public enum JSONText {
    /// `text` as a quoted JSON string.
    public static func quoted<Text: StringProtocol>(_ text: Text) -> String {
        var out: [UInt8] = [0x22]
        out.reserveCapacity(text.utf8.count + 2)
        appendEscaped(text.utf8, to: &out)
        out.append(0x22)
        return String(decoding: out, as: UTF8.self)
    }

    private static let upperHex = Array("0123456789ABCDEF".utf8)

    /// `bytes` escaped as the inside of a JSON string, onto `out`.
    static func appendEscaped(_ bytes: some Sequence<UInt8>, to out: inout [UInt8]) {
        for byte in bytes {
            switch byte {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, UInt8(ascii: "n")]
            case 0x0D: out += [0x5C, UInt8(ascii: "r")]
            case 0x09: out += [0x5C, UInt8(ascii: "t")]
            case ..<0x20:
                out += [0x5C, UInt8(ascii: "u"), 0x30, 0x30, upperHex[Int(byte >> 4)], upperHex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
    }

    /// `"key":value,...` from pairs whose values are already JSON.
    public static func fields(_ pairs: [(String, String)]) -> String {
        pairs.map { quoted($0.0) + ":" + $0.1 }.joined(separator: ",")
    }
}
