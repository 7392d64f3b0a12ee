import CSystem
import Glibc
import ServerCore
import Synchronization

/// HTTP dates (RFC 9110 5.6.7): IMF-fixdate out; IMF-fixdate, RFC 850 and asctime in.
public enum HTTPDate {
    public static func format(_ seconds: Int) -> String {
        UTCTime.format(seconds, "%a, %d %b %Y %H:%M:%S GMT")
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
