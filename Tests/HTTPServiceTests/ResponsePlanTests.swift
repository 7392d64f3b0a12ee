import Testing
@testable import HTTPService

@Suite struct ResponsePlanTests {
    let file = FileMetadata(size: 1000, modified: 784_111_777)
    let html = MIMETypes.lookup("a.html")
    let png = MIMETypes.lookup("a.png")
    let lastModified = "Sun, 06 Nov 1994 08:49:37 GMT"

    func request(_ headers: [(String, String)], method: String = "GET", minor: Int = 1) -> HTTPRequestHead {
        HTTPRequestHead(method: method, target: "/a", minorVersion: minor,
                        headers: [.init(name: "host", value: "h")] + headers.map { .init(name: $0.0, value: $0.1) })
    }

    /// The plan for `file` as the session makes it: `ContentCoding` chooses the encoding
    /// (a `.gz` sibling with `precompressed`, no gzip cache), `ResponsePlan` the rest.
    func plan(_ headers: [(String, String)], type: MIMETypes.Entry? = nil, precompressed: FileMetadata? = nil,
              method: String = "GET", minor: Int = 1, file: FileMetadata? = nil) -> ResponsePlan {
        let request = request(headers, method: method, minor: minor)
        let file = file ?? self.file
        let type = type ?? html
        let coding = ContentCoding.choose(for: request, path: "a", size: file.size, compressible: type.compressible, minLength: 256,
                                          sibling: { precompressed.map { .stored(file: nil, metadata: $0, contents: nil, headers: nil) } },
                                          cached: { nil })
        return ResponsePlan(request: request, file: file, type: type, coding: coding.plan)
    }

    func header(_ plan: ResponsePlan, _ name: String) -> String? {
        plan.headers.first { $0.0 == name }?.1
    }

    @Test func plainGet() {
        let p = plan([])
        #expect(p.status == .ok)
        #expect(p.body == .file(offset: 0, length: 1000, precompressed: false))
        #expect(header(p, "ETag") == "\"2ebc98a1-3e8\"")
        #expect(header(p, "Last-Modified") == lastModified)
        #expect(header(p, "Content-Length") == "1000")
        #expect(header(p, "Vary") == "Accept-Encoding")
        #expect(header(p, "Accept-Ranges") == "bytes")
        #expect(header(p, "Content-Encoding") == nil)
    }

    /// The header lines prepared once per file and per cached encoding are what the plan
    /// gives an unconditional GET of the same representation.
    @Test func wholeHeadersAreThePlansForAnUnconditionalGet() {
        let stored = FileMetadata(size: 300, modified: 784_111_999)
        #expect(ResponsePlan.wholeHeaders(file: file, type: html, coding: .identity).map { "\($0): \($1)" }
            == plan([]).headers.map { "\($0): \($1)" })
        #expect(ResponsePlan.wholeHeaders(file: file, type: html, coding: .stored(stored)).map { "\($0): \($1)" }
            == plan([("accept-encoding", "gzip")], precompressed: stored).headers.map { "\($0): \($1)" })
    }

    @Test func gzipOnTheFlyHasItsOwnETagAndNoLength() {
        let p = plan([("accept-encoding", "gzip")])
        #expect(p.body == .gzipStream)
        #expect(header(p, "Content-Encoding") == "gzip")
        #expect(header(p, "ETag") == "W/\"2ebc98a1-3e8-gzip\"")
        #expect(header(p, "Content-Length") == nil)
        #expect(header(p, "Vary") == "Accept-Encoding")
    }

    @Test func notCompressedWhenRefusedSmallIncompressibleOrHTTP10() {
        #expect(plan([("accept-encoding", "gzip;q=0")]).body != .gzipStream)
        #expect(plan([("accept-encoding", "gzip")], type: png).body != .gzipStream)
        #expect(header(plan([("accept-encoding", "gzip")], type: png), "Vary") == nil)
        #expect(plan([("accept-encoding", "gzip")], minor: 0).body != .gzipStream)
        let small = plan([("accept-encoding", "gzip")], file: FileMetadata(size: 100, modified: 0))
        #expect(small.body == .file(offset: 0, length: 100, precompressed: false))
    }

    @Test func precompressedSiblingIsServedWithRanges() {
        let gz = FileMetadata(size: 300, modified: 784_111_800)
        let p = plan([("accept-encoding", "gzip"), ("range", "bytes=0-99")], precompressed: gz)
        #expect(p.status == .partialContent)
        #expect(p.body == .file(offset: 0, length: 100, precompressed: true))
        #expect(header(p, "Content-Range") == "bytes 0-99/300")
        #expect(header(p, "Content-Encoding") == "gzip")
        #expect(header(p, "ETag") != header(plan([]), "ETag"))
        #expect(plan([], precompressed: gz).body == .file(offset: 0, length: 1000, precompressed: false))
    }

    @Test func ifNoneMatchGives304WithVary() {
        let etag = header(plan([]), "ETag") ?? ""
        let p = plan([("if-none-match", "\"other\", \(etag)")])
        #expect(p.status == .notModified)
        #expect(p.body == .none)
        #expect(header(p, "Vary") == "Accept-Encoding")
        #expect(header(p, "ETag") == etag)
        #expect(plan([("if-none-match", "W/\(etag)")]).status == .notModified)
        #expect(plan([("if-none-match", "*")]).status == .notModified)
        #expect(plan([("if-none-match", "\"nope\"")]).status == .ok)
    }

    @Test func gzipVariant304() {
        let etag = header(plan([("accept-encoding", "gzip")]), "ETag") ?? ""
        let p = plan([("accept-encoding", "gzip"), ("if-none-match", etag)])
        #expect(p.status == .notModified)
        #expect(header(p, "Vary") == "Accept-Encoding")
        #expect(plan([("if-none-match", etag)]).status == .ok)
    }

    @Test func ifModifiedSince() {
        #expect(plan([("if-modified-since", lastModified)]).status == .notModified)
        #expect(plan([("if-modified-since", "Sun, 06 Nov 1994 08:49:36 GMT")]).status == .ok)
        #expect(plan([("if-modified-since", "garbage")]).status == .ok)
        // If-None-Match takes precedence.
        #expect(plan([("if-modified-since", lastModified), ("if-none-match", "\"x\"")]).status == .ok)
    }

    @Test func ifMatchAndIfUnmodifiedSince() {
        #expect(plan([("if-match", "\"x\"")]).status == .preconditionFailed)
        #expect(plan([("if-match", "*")]).status == .ok)
        #expect(plan([("if-unmodified-since", "Sun, 06 Nov 1994 08:49:36 GMT")]).status == .preconditionFailed)
    }

    @Test func ranges() {
        let p = plan([("range", "bytes=-10")])
        #expect(p.status == .partialContent)
        #expect(header(p, "Content-Range") == "bytes 990-999/1000")
        #expect(header(p, "Content-Length") == "10")
        let bad = plan([("range", "bytes=5000-")])
        #expect(bad.status == .rangeNotSatisfiable)
        #expect(header(bad, "Content-Range") == "bytes */1000")
        #expect(plan([("range", "bytes=0-1")], method: "HEAD").status == .ok)
        #expect(plan([("range", "bytes=0-1,10-20")]).status == .ok)
    }

    @Test func rangeWithGzipAcceptedIsServedAsIdentity() {
        let p = plan([("accept-encoding", "gzip"), ("range", "bytes=0-9")])
        #expect(p.status == .partialContent)
        #expect(header(p, "Content-Encoding") == nil)
        #expect(header(p, "Vary") == "Accept-Encoding")
    }

    @Test func ifRange() {
        let etag = header(plan([]), "ETag") ?? ""
        #expect(plan([("range", "bytes=0-9"), ("if-range", etag)]).status == .partialContent)
        #expect(plan([("range", "bytes=0-9"), ("if-range", "\"old\"")]).status == .ok)
        #expect(plan([("range", "bytes=0-9"), ("if-range", "W/\(etag)")]).status == .ok)
        #expect(plan([("range", "bytes=0-9"), ("if-range", lastModified)]).status == .partialContent)
        #expect(plan([("range", "bytes=0-9"), ("if-range", "Sun, 06 Nov 1994 08:49:38 GMT")]).status == .ok)
    }
}
