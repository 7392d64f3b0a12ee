/// The one way a number from the wire or from a file is read: ASCII digits only (no sign,
/// blank, `0x` or `_`), at least one, at most `max`; overflow is nil, never a trap.
/// `Int(_:)` and `Int(_:radix:)` accept a leading `+`/`-`, and `UInt16(x)` traps past 65535.
public enum StrictNumber {
    /// Unsigned decimal digits.
    public static func decimal<T: FixedWidthInteger & UnsignedInteger>(
        _ digits: some Collection<UInt8>, as type: T.Type, max: T = T.max
    ) -> T? {
        parse(digits, radix: 10, max: max)
    }

    /// Unsigned hexadecimal digits, either case.
    public static func hex<T: FixedWidthInteger & UnsignedInteger>(
        _ digits: some Collection<UInt8>, as type: T.Type, max: T = T.max
    ) -> T? {
        parse(digits, radix: 16, max: max)
    }

    public static func decimal<T: FixedWidthInteger & UnsignedInteger>(
        _ text: some StringProtocol, as type: T.Type, max: T = T.max
    ) -> T? {
        parse(text.utf8, radix: 10, max: max)
    }

    public static func hex<T: FixedWidthInteger & UnsignedInteger>(
        _ text: some StringProtocol, as type: T.Type, max: T = T.max
    ) -> T? {
        parse(text.utf8, radix: 16, max: max)
    }

    public static func decimal(_ digits: some Collection<UInt8>, max: UInt64 = .max) -> UInt64? {
        parse(digits, radix: 10, max: max)
    }

    public static func hex(_ digits: some Collection<UInt8>, max: UInt64 = .max) -> UInt64? {
        parse(digits, radix: 16, max: max)
    }

    public static func decimal(_ text: some StringProtocol, max: UInt64 = .max) -> UInt64? {
        parse(text.utf8, radix: 10, max: max)
    }

    public static func hex(_ text: some StringProtocol, max: UInt64 = .max) -> UInt64? {
        parse(text.utf8, radix: 16, max: max)
    }

    /// A non-negative decimal as `Int`, at most `max`: for sizes and counts.
    public static func count(_ text: some StringProtocol, max: Int = Int.max) -> Int? {
        decimal(text.utf8, as: UInt64.self, max: UInt64(Swift.max(0, max))).map { Int($0) }
    }

    /// A non-negative decimal as `Int`, at most `max`: for sizes and counts.
    public static func count(_ digits: some Collection<UInt8>, max: Int = Int.max) -> Int? {
        decimal(digits, as: UInt64.self, max: UInt64(Swift.max(0, max))).map { Int($0) }
    }

    private static func parse<T: FixedWidthInteger & UnsignedInteger>(
        _ digits: some Collection<UInt8>, radix: T, max: T
    ) -> T? {
        guard !digits.isEmpty else { return nil }
        var value: T = 0
        for byte in digits {
            let digit: UInt8
            if radix == 16 {
                guard let d = byte.hexDigitValue else { return nil }
                digit = d
            } else {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                digit = byte - 0x30
            }
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: radix)
            let (sum, overflowB) = shifted.addingReportingOverflow(T(digit))
            guard !overflowA, !overflowB, sum <= max else { return nil }
            value = sum
        }
        return value
    }
}
