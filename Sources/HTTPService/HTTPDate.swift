import Glibc
import ServerCore
import Synchronization

/// HTTP dates (RFC 9110 5.6.7): IMF-fixdate out; IMF-fixdate, RFC 850 and asctime in.
public enum HTTPDate {
    public static func format(_ seconds: Int) -> String {
        // strftime's %Y has fewer than the four digits IMF-fixdate needs before year 1000
        // (a file's mtime can be that old): those years are padded by hand.
        guard seconds < year1000 else { return UTCTime.format(seconds, "%a, %d %b %Y %H:%M:%S GMT") }
        let year = String(DateFields.year(of: seconds))
        return UTCTime.format(seconds, "%a, %d %b ") + String(repeating: "0", count: max(0, 4 - year.count)) + year
            + UTCTime.format(seconds, " %H:%M:%S GMT")
    }

    /// 1000-01-01T00:00:00Z.
    static let year1000 = -30_610_224_000

    /// Seconds since the epoch, or nil unless `text` is exactly one of the three forms with
    /// every field a digit in its range (strptime skips blanks and takes one-digit days).
    public static func parse(_ text: String) -> Int? {
        parse(text, now: nil)
    }

    /// `now` (seconds, the clock's if nil) only places an RFC 850 two-digit year.
    static func parse(_ text: String, now: Int?) -> Int? {
        var scanner = DateScanner(Array(text.utf8))
        let fields: DateFields?
        if let comma = scanner.bytes.firstIndex(of: 0x2C) {
            let name = scanner.bytes[..<comma]
            scanner.position = comma + 1
            if DateScanner.shortDays.contains(where: { name.elementsEqual($0.utf8) }) {
                fields = scanner.imfFixdate()
            } else if DateScanner.longDays.contains(where: { name.elementsEqual($0.utf8) }) {
                fields = scanner.rfc850(currentYear: DateFields.year(of: now ?? time(nil)))
            } else {
                fields = nil
            }
        } else {
            fields = scanner.asctime()
        }
        guard let fields, scanner.atEnd else { return nil }
        return fields.seconds
    }

    private static let cache = Mutex<(Int, String)>((0, ""))

    /// The current date for the `Date` header, formatted once a second.
    public static func now() -> String {
        let seconds = time(nil)
        return cache.withLock { cached in
            if cached.0 != seconds { cached = (seconds, format(seconds)) }
            return cached.1
        }
    }
}
