import CSystem
import Glibc
import Synchronization

/// HTTP dates (RFC 9110 5.6.7): IMF-fixdate out; IMF-fixdate, RFC 850 and asctime in.
public enum HTTPDate {
    public static func format(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        var buffer = [CChar](repeating: 0, count: 40)
        let n = strftime(&buffer, buffer.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
        return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func parse(_ text: String) -> Int? {
        let seconds = csystem_parse_http_date(text)
        return seconds < 0 ? nil : Int(seconds)
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
