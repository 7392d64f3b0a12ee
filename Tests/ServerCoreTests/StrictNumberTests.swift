import Testing
import ServerCore

@Suite struct StrictNumberTests {
    @Test func acceptsPlainDigits() {
        #expect(StrictNumber.decimal("0") == 0)
        #expect(StrictNumber.decimal("00042") == 42)
        #expect(StrictNumber.decimal("18446744073709551615") == UInt64.max)
        #expect(StrictNumber.hex("fF") == 255)
        #expect(StrictNumber.decimal("65535", as: UInt16.self) == 65535)
        #expect(StrictNumber.count("123", max: 123) == 123)
    }

    @Test(arguments: ["", "+5", "-5", " 5", "5 ", "0x10", "1_000", "5.0", "٥", "1e3"])
    func rejectsDecimal(_ text: String) {
        #expect(StrictNumber.decimal(text) == nil)
    }

    @Test(arguments: ["", "-ff", "+ff", "0xff", " ff", "fg"])
    func rejectsHex(_ text: String) {
        #expect(StrictNumber.hex(text) == nil)
    }

    @Test func overflowAndMaximumAreNil() {
        #expect(StrictNumber.decimal("18446744073709551616") == nil)
        #expect(StrictNumber.decimal("65536", as: UInt16.self) == nil)
        #expect(StrictNumber.decimal("256", as: UInt8.self) == nil)
        #expect(StrictNumber.hex("10000000000000000") == nil)
        #expect(StrictNumber.count("124", max: 123) == nil)
        #expect(StrictNumber.count("9223372036854775808") == nil)
        #expect(StrictNumber.decimal("11", as: UInt32.self, max: 10) == nil)
    }

    @Test func bytesAndTextAgree() {
        for text in ["7", "0099", "4294967295", "x"] {
            #expect(StrictNumber.decimal(Array(text.utf8), as: UInt32.self) == StrictNumber.decimal(text, as: UInt32.self))
        }
    }
}
