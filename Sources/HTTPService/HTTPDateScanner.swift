import Glibc

/// A date and time of day in UTC, each field already checked against its range.
struct DateFields {
    let year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int

    /// Nil unless the day exists in that month and the time of day is in range (a second
    /// of 60 is a leap second, which IMF allows).
    init?(year: Int, month: Int, day: Int, _ clock: (hour: Int, minute: Int, second: Int)) {
        guard (1...DateFields.daysIn(month: month, year: year)).contains(day),
              clock.hour < 24, clock.minute < 60, clock.second <= 60 else { return nil }
        self.year = year
        self.month = month
        self.day = day
        (hour, minute, second) = clock
    }

    /// Seconds since the epoch (negative before 1970), by days from the civil date
    /// (Howard Hinnant's algorithm): no timegm, no time zone.
    var seconds: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return days * 86400 + hour * 3600 + minute * 60 + second
    }

    static func year(of seconds: Int) -> Int {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return Int(parts.tm_year) + 1900
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

/// Reads the three HTTP date forms field by field: each digit must be an ASCII digit and
/// each field in range, so nothing is left to a conversion that might take a sign or blank.
struct DateScanner {
    static let shortDays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    static let longDays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { position == bytes.count }

    /// `SP 06 Nov 1994 08:49:37 GMT`, after `Sun,`.
    mutating func imfFixdate() -> DateFields? {
        guard literal(" "), let day = digits(2), literal(" "), let month = month(), literal(" "),
              let year = digits(4), literal(" "), let clock = clock(), literal(" GMT") else { return nil }
        return DateFields(year: year, month: month, day: day, clock)
    }

    /// `SP 06-Nov-94 08:49:37 GMT`, after `Sunday,`. A two-digit year more than 50 years
    /// ahead of `currentYear` is the most recent past one with those digits (RFC 9110 5.6.7).
    mutating func rfc850(currentYear: Int) -> DateFields? {
        guard literal(" "), let day = digits(2), literal("-"), let month = month(), literal("-"),
              let twoDigits = digits(2), literal(" "), let clock = clock(), literal(" GMT") else { return nil }
        var year = currentYear - currentYear % 100 + twoDigits
        if year > currentYear + 50 { year -= 100 }
        return DateFields(year: year, month: month, day: day, clock)
    }

    /// `Sun Nov  6 08:49:37 1994`: the day is two digits or a space and one.
    mutating func asctime() -> DateFields? {
        guard let name = word(3), DateScanner.shortDays.contains(name), literal(" "), let month = month(), literal(" "),
              let day = literal(" ") ? digits(1) : digits(2), literal(" "), let clock = clock(), literal(" "),
              let year = digits(4) else { return nil }
        return DateFields(year: year, month: month, day: day, clock)
    }

    /// `08:49:37`, as hour, minute and second (not yet range-checked).
    private mutating func clock() -> (Int, Int, Int)? {
        guard let hour = digits(2), literal(":"), let minute = digits(2), literal(":"), let second = digits(2) else { return nil }
        return (hour, minute, second)
    }

    private mutating func month() -> Int? {
        guard let name = word(3), let index = DateScanner.months.firstIndex(of: name) else { return nil }
        return index + 1
    }

    private mutating func word(_ count: Int) -> String? {
        guard bytes.count - position >= count else { return nil }
        defer { position += count }
        return String(decoding: bytes[position..<position + count], as: UTF8.self)
    }

    /// Exactly `count` ASCII digits.
    private mutating func digits(_ count: Int) -> Int? {
        guard bytes.count - position >= count else { return nil }
        var value = 0
        for byte in bytes[position..<position + count] {
            guard (0x30...0x39).contains(byte) else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        position += count
        return value
    }

    private mutating func literal(_ text: String) -> Bool {
        let utf8 = text.utf8
        guard bytes.count - position >= utf8.count, bytes[position..<position + utf8.count].elementsEqual(utf8) else { return false }
        position += utf8.count
        return true
    }
}
