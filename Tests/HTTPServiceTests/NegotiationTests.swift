import Testing
@testable import HTTPService

@Suite struct AcceptEncodingTests {
    @Test(arguments: [
        ("gzip", true), ("gzip, deflate, br", true), ("GZIP", true), ("x-gzip", true),
        ("gzip;q=0", false), ("gzip; q=0.0", false), ("gzip;q=0.5", true), ("br", false),
        ("*", true), ("*;q=0", false), ("br, *;q=0.1", true), ("gzip;q=0, *", false),
        ("identity", false), ("", false),
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
