/// What came off the wire, made safe for a log line. One rule, nginx's `escape=default`:
/// `"` (0x22), `\` (0x5C), bytes below 0x20 and bytes from 0x7F up are written `\xHH`
/// (upper-case hex, so `"` is `\x22` and `\` is `\x5C`); every other byte is itself. A line
/// then holds no CR, LF, NUL or other control byte, a quoted field cannot be closed from
/// the wire, and any input, UTF-8 or not, can be read back exactly (non-ASCII is escaped
/// byte by byte too: an é is `\xC3\xA9`). Text a service has already decoded leniently
/// carries U+FFFD where a byte was not UTF-8, which shows as `\xEF\xBF\xBD`.
public enum LogEscape {
    @inline(__always)
    static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte >= 0x7F || byte == 0x22 || byte == 0x5C
    }

    /// `text` escaped. When nothing needs escaping (the common case) this is `text` itself:
    /// a `String` is returned without a copy, so an access line pays only a scan.
    public static func escaped<Text: StringProtocol>(_ text: Text) -> String {
        let clean = text.utf8.withContiguousStorageIfAvailable { !$0.contains(where: needsEscape) }
            ?? !text.utf8.contains(where: needsEscape)
        if clean { return String(text) }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 16)
        append(text.utf8, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Raw bytes escaped, as text.
    public static func escaped<Bytes: Sequence<UInt8>>(bytes: Bytes) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount)
        append(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `text`, escaped, to `out`, read in place: not generic, so a caller in another
    /// module does not walk the text through a protocol witness byte by byte.
    public static func append(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in
            if bytes.contains(where: needsEscape) { append(bytes, to: &out) } else { out.append(contentsOf: bytes) }
        }
    }

    /// Appends `bytes`, escaped, to `out`: for lines built as bytes.
    public static func append<Bytes: Sequence<UInt8>>(_ bytes: Bytes, to out: inout [UInt8]) {
        for byte in bytes {
            if needsEscape(byte) {
                out.append(contentsOf: [0x5C, 0x78, hex(byte >> 4), hex(byte & 0x0F)])
            } else {
                out.append(byte)
            }
        }
    }

    @inline(__always)
    private static func hex(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 + nibble : 0x37 + nibble }
}
