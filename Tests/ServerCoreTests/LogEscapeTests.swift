import PropertyBased
import ServerCore
import Testing

@Suite struct LogEscapeTests {
    @Test func printableASCIIStaysAsIs() {
        #expect(LogEscape.escaped("GET /index.html?q=a+b&x=%22") == "GET /index.html?q=a+b&x=%22")
        #expect(LogEscape.escaped("") == "")
        #expect(LogEscape.escaped(bytes: Array("a b~".utf8)) == "a b~")
    }

    @Test func quoteBackslashAndControlBytesAreHex() {
        #expect(LogEscape.escaped("/a\"b") == "/a\\x22b")
        #expect(LogEscape.escaped("a\\b") == "a\\x5Cb")
        #expect(LogEscape.escaped("a\r\nb\0c\u{7F}\u{1B}\t") == "a\\x0D\\x0Ab\\x00c\\x7F\\x1B\\x09")
        #expect(LogEscape.escaped("é") == "\\xC3\\xA9")
        #expect(LogEscape.escaped(Substring("x\"y").dropFirst()) == "\\x22y")
    }

    @Test func bytesThatAreNotUTF8AreKeptExactly() {
        #expect(LogEscape.escaped(bytes: [0x2F, 0xFF, 0xC3, 0x22]) == "/\\xFF\\xC3\\x22")
        var line = Array("to=".utf8)
        LogEscape.append([0x0A, 0x61, 0x80], to: &line)
        #expect(line == Array("to=\\x0Aa\\x80".utf8))
    }

    @Test func cleanTextIsReturnedWithoutACopy() {
        let target = String(repeating: "/long/path/segment", count: 8)
        let escaped = LogEscape.escaped(target)
        let same = target.utf8.withContiguousStorageIfAvailable { a in
            escaped.utf8.withContiguousStorageIfAvailable { b in a.baseAddress == b.baseAddress }
        }
        #expect(same == true)
    }

    /// Any bytes: the result is printable ASCII without `"`, and reads back to the input.
    @Test func anyBytesEscapeToOneReadableField() async {
        await propertyCheck(input: Gen.uint8(in: 0...255).array(of: 0...64)) { bytes in
            let escaped = LogEscape.escaped(bytes: bytes)
            #expect(escaped.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 })
            #expect(LogEscapeTests.unescape(escaped) == bytes)
        }
    }

    static func unescape(_ text: String) -> [UInt8] {
        var out: [UInt8] = [], bytes = Array(text.utf8), index = 0
        while index < bytes.count {
            if bytes[index] == 0x5C, index + 3 < bytes.count, let high = bytes[index + 2].hexDigitValue,
               let low = bytes[index + 3].hexDigitValue {
                out.append(high << 4 | low)
                index += 4
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }
}
