import Glibc

/// Times as protocols write them: seconds since the epoch, formatted in UTC with strftime.
public enum UTCTime {
    /// `pattern` is strftime's, e.g. `%a, %d %b %Y %H:%M:%S GMT`.
    public static func format(_ seconds: Int, _ pattern: String) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let n = strftime(&buffer, buffer.count, pattern, &parts)
        return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
