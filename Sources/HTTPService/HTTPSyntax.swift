/// Character classes and small grammars from RFC 9110 and RFC 9112.
enum HTTPSyntax {
    /// tchar: "!#$%&'*+-.^_`|~", digits and letters.
    static func isToken(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: true
        default: false
        }
    }

    /// field-vchar, SP, HTAB and obs-text; no other control bytes.
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == 0x09 || (byte >= 0x20 && byte != 0x7F)
    }

    /// "HTTP/" DIGIT "." DIGIT, as (major, minor).
    static func version(_ bytes: ArraySlice<UInt8>) -> (Int, Int)? {
        let s = bytes.startIndex
        guard bytes.count == 8, bytes[s..<s + 5].elementsEqual("HTTP/".utf8), bytes[s + 6] == 0x2E,
              (0x30...0x39).contains(bytes[s + 5]), (0x30...0x39).contains(bytes[s + 7]) else { return nil }
        return (Int(bytes[s + 5] - 0x30), Int(bytes[s + 7] - 0x30))
    }

    /// A field name in lower case (names are ASCII tokens), made in one step.
    static func lowercased(_ bytes: ArraySlice<UInt8>) -> String {
        String(unsafeUninitializedCapacity: bytes.count) { buffer in
            for (i, byte) in bytes.enumerated() { buffer[i] = (0x41...0x5A).contains(byte) ? byte | 0x20 : byte }
            return bytes.count
        }
    }
}
