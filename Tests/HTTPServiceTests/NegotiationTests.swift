import Testing
@testable import HTTPService

@Suite struct AcceptEncodingTests {
    @Test(arguments: [
        ("gzip", true), ("gzip, deflate, br", true), ("GZIP", true), ("x-gzip", true),
        ("gzip;q=0", false), ("gzip; q=0.0", false), ("gzip;q=0.5", true), ("br", false),
        ("*", true), ("*;q=0", false), ("br, *;q=0.1", true), ("gzip;q=0, *", false),
        ("identity", false), ("", false),
        // q by the grammar only: what Double(_:) would take besides is a q of 0.
        ("gzip;q=0.001", true), ("gzip;q=1.000", true), ("gzip;q=1.", true), ("gzip;q=-0", false), ("gzip;q=1e0", false),
        ("gzip;q=nan", false), ("gzip;q=0x1p0", false), ("gzip;q=0.0001", false), ("gzip;q=1.5", false), ("gzip;q=+1", false),
        ("gzip;q=", false), ("*;q=inf", false), ("gzip;level=9", true),
    ])
    func gzip(_ header: String, _ allowed: Bool) {
        #expect(AcceptEncoding.allowsGzip(header) == allowed)
    }

    @Test func absentHeaderMeansIdentity() {
        #expect(!AcceptEncoding.allowsGzip(nil))
    }
}

@Suite struct ByteRangeTests {
    @Test(arguments: [
        ("bytes=0-9", ByteRange.partial(offset: 0, length: 10)),
        ("bytes=10-", .partial(offset: 10, length: 90)),
        ("bytes=-5", .partial(offset: 95, length: 5)),
        ("bytes=-500", .partial(offset: 0, length: 100)),
        ("bytes=90-200", .partial(offset: 90, length: 10)),
        ("bytes=100-", .unsatisfiable),
        ("bytes=-0", .unsatisfiable),
        ("bytes=5-1", .full),
        ("bytes=abc", .full),
        ("items=0-1", .full),
        ("bytes=0-1,5-6", .full),
        ("bytes=0-5,3-9", .partial(offset: 0, length: 10)),
        ("bytes=0-4,5-9", .partial(offset: 0, length: 10)),
        ("bytes=200-300,0-0", .partial(offset: 0, length: 1)),
        ("bytes=0-0,1-1,2-2,3-3,4-4,5-5,6-6,7-7,8-8,9-9,10-10,11-11,12-12,13-13,14-14,15-15,16-16", .full),
        ("bytes= 0-9 ", .partial(offset: 0, length: 10)),
        // Int64(_:) took these signs.
        ("bytes=+0-9", .full), ("bytes=0-+9", .full), ("bytes=-+5", .full), ("bytes=--5", .full), ("bytes=0--9", .full),
        ("bytes=0-99999999999999999999", .full), ("bytes=9223372036854775807-", .unsatisfiable),
        ("bytes=-9223372036854775807", .partial(offset: 0, length: 100)), ("bytes=0-9223372036854775807", .partial(offset: 0, length: 100)),
        ("bytes=٠-9", .full), ("bytes=0 -9", .full),
    ])
    func ranges(_ header: String, _ expected: ByteRange) {
        #expect(ByteRange(header: header, length: 100) == expected)
    }

    @Test func emptyFileHasNoSatisfiableRange() {
        #expect(ByteRange(header: "bytes=0-", length: 0) == .unsatisfiable)
        #expect(ByteRange(header: nil, length: 0) == .full)
    }
}

@Suite struct HTTPDateTests {
    @Test func formatsIMFFixdate() {
        #expect(HTTPDate.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
    }

    @Test(arguments: ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"])
    func parsesAllThreeForms(_ text: String) {
        #expect(HTTPDate.parse(text) == 784_111_777)
    }

    @Test func rejectsGarbage() {
        #expect(HTTPDate.parse("yesterday") == nil)
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT trailing") == nil)
    }

    /// strptime skipped blanks, took one-digit fields and any case; each of these has a
    /// field that is not its digits or not in range.
    @Test(arguments: [
        "Sun,  6 Nov 1994 08:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, +6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov +994 08:49:37 GMT",
        "Sun, 06 Nov 1994 8:49:37 GMT", "Sun, 06 Nov 1994 08:49:3a GMT", "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT", "Sun, 31 Nov 1994 08:49:37 GMT", "Sun, 00 Nov 1994 08:49:37 GMT", "Mon, 29 Feb 1900 00:00:00 GMT",
        "sun, 06 Nov 1994 08:49:37 GMT", "Sun, 06 nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Nov 1994 08:49:37",
        "Sunday, 06 Nov 1994 08:49:37 GMT", "Sun, 06-Nov-94 08:49:37 GMT", "Sunday, 06-Nov-1994 08:49:37 GMT", "Sunday, 6-Nov-94 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994", "Sun Nov  6 08:49:37 94", "Sun Nov  6 08:49:37 1994 ", "Sun Nov -6 08:49:37 1994", "Sun Nov  6 08:49:37  1994",
        "Sun, 06 Nov 1994 08:49:37 GMT\u{0}", "Sun, 06 Nov 1994 08:49:37 G", "", "Sun,", ",",
    ])
    func refusesEveryFieldOutOfItsDigitsOrRange(_ text: String) {
        #expect(HTTPDate.parse(text) == nil, "\(text.debugDescription)")
    }

    @Test(arguments: [
        ("Thu, 29 Feb 1996 00:00:00 GMT", 825_552_000), ("Tue, 29 Feb 2000 12:00:00 GMT", 951_825_600),
        ("Wed, 31 Dec 1969 23:59:59 GMT", -1), ("Fri, 31 Dec 9999 23:59:59 GMT", 253_402_300_799),
        ("Sun, 06 Nov 1994 08:49:60 GMT", 784_111_800), ("Sun Nov 06 08:49:37 1994", 784_111_777),
    ])
    func parsesEdgesOfTheCalendar(_ text: String, _ seconds: Int) {
        #expect(HTTPDate.parse(text) == seconds)
    }

    /// RFC 9110 5.6.7: a two-digit year more than 50 years ahead is the last century's.
    @Test func rfc850YearIsPlacedAgainstNow() {
        let in2026 = 1_780_000_000
        #expect(HTTPDate.parse("Wednesday, 01-Jan-70 00:00:00 GMT", now: in2026) == 3_155_760_000)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT", now: in2026) == 784_111_777)
    }

    @Test func formatAndParseAgree() {
        for seconds in [0, 784_111_777, 951_782_400, 1_780_000_000, 4_102_444_799] {
            #expect(HTTPDate.parse(HTTPDate.format(seconds)) == seconds)
        }
    }
}

@Suite struct MIMETypesTests {
    @Test(arguments: [
        ("index.html", "text/html; charset=utf-8", true), ("app.JS", "text/javascript; charset=utf-8", true),
        ("data.json", "application/json", true), ("logo.svg", "image/svg+xml", true),
        ("a.png", "image/png", false), ("a.woff2", "font/woff2", false), ("a.wasm", "application/wasm", true),
        ("README", "application/octet-stream", false), (".profile", "application/octet-stream", false),
    ])
    func lookup(_ name: String, _ type: String, _ compressible: Bool) {
        let entry = MIMETypes.lookup(name)
        #expect(entry.type == type)
        #expect(entry.compressible == compressible)
    }
}
