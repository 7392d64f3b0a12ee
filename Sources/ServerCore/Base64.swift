/// Base64 (RFC 4648 section 4), decoded two ways: strictly, for a secret in a keys file, and
/// leniently, for mail bodies and basic auth.
public enum Base64 {
    /// Padding optional; nil for anything outside the alphabet, misplaced padding or leftover bits.
    public static func decode(_ text: String) -> [UInt8]? {
        var bits: UInt32 = 0, count = 0, padding = 0
        var out: [UInt8] = []
        for byte in text.utf8 {
            if byte == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            guard let value = value(of: byte), padding == 0 else { return nil }
            bits = bits << 6 | UInt32(value)
            count += 6
            if count >= 8 {
                count -= 8
                out.append(UInt8(truncatingIfNeeded: bits >> UInt32(count)))
            }
        }
        // Leftover bits must be zero padding of a proper length (2 or 4 bits).
        guard padding <= 2, count == 0 || count == 2 || count == 4, bits & ((1 << UInt32(count)) - 1) == 0 else { return nil }
        return out
    }

    /// Characters outside the alphabet (line breaks) are skipped; decoding stops at padding.
    public static func decodeSkipping(_ text: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 3 / 4)
        var accumulator: UInt32 = 0, bits = 0
        for byte in text {
            if byte == UInt8(ascii: "=") { return out }
            guard let value = value(of: byte) else { continue }
            accumulator = (accumulator << 6 | UInt32(value)) & 0xFFFFFF
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return out
    }

    private static func value(of byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
