import Foundation
import HTTPService
import Testing

/// The HTTP service against curl, the client people use to check a server by hand.
@Suite(.enabled(if: Tools.hasCurl, "curl is not installed: skipping the curl tests"))
struct HTTPCurlTests {
    @Test func getsTheIndex() throws {
        let server = try TestHTTPServer()
        let result = try Tools.curl(["-i", server.url + "/"])
        #expect(result.status == 0)
        #expect(result.text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(result.text.contains("Content-Type: text/html; charset=utf-8\r\n"))
        #expect(result.text.contains("Server: appserver\r\n"))
        #expect(result.text.contains("Date: "))
        #expect(result.text.hasSuffix("<h1>hello</h1>\n"))
    }

    /// Both encodings a client may get: compressed once and kept (with a length), or, past
    /// the cache's file limit, compressed on the fly (chunked).
    @Test(.enabled(if: Tools.hasGzip, "gzip is not installed"), arguments: [false, true])
    func gzipRoundTripThroughGzipD(streamed: Bool) throws {
        let server = try TestHTTPServer { if streamed { $0.gzipCache = GzipCache(fileLimit: 0) } }
        let text = (0..<20_000).map { "line \($0) of a compressible page\n" }.joined()
        try server.write("page.html", text)
        let out = server.base.path + "/page.html.gz"
        for _ in 0..<2 {
            let result = try Tools.curl(["-H", "Accept-Encoding: gzip", "-D", "-", "-o", out, server.url + "/page.html"])
            #expect(result.text.contains("Content-Encoding: gzip\r\n"))
            #expect(result.text.contains("Vary: Accept-Encoding\r\n"))
            #expect(result.text.contains(streamed ? "Transfer-Encoding: chunked\r\n" : "Content-Length: "))
            let size = (try FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
            #expect(size > 0 && size < text.utf8.count / 4)
            let unzipped = try Tools.run("gzip", ["-dc", out])
            #expect(unzipped.status == 0)
            #expect(unzipped.stdout == Array(text.utf8))
        }
        let decoded = try Tools.curl(["--compressed", server.url + "/page.html"])
        #expect(decoded.stdout == Array(text.utf8))
    }

    @Test func precompressedFileIsServedAsIs() throws {
        let server = try TestHTTPServer()
        try server.write("app.js", String(repeating: "console.log('x');\n", count: 100))
        try server.write("app.js.gz", [0x1f, 0x8b, 1, 2, 3])
        let result = try Tools.curl(["-H", "Accept-Encoding: gzip", "-D", "-", server.url + "/app.js"])
        #expect(result.text.contains("Content-Length: 5\r\n"))
        #expect(result.text.contains("Content-Encoding: gzip\r\n"))
        #expect(Array(result.stdout.suffix(5)) == [0x1f, 0x8b, 1, 2, 3])
    }

    @Test func rangeGives206WithTheRightBytes() throws {
        let server = try TestHTTPServer()
        let bytes = patternBytes(300_000)
        try server.write("data.bin", bytes)
        let out = server.base.path + "/part"
        let result = try Tools.curl(["-r", "1000-200999", "-o", out, "-w", "%{http_code}", server.url + "/data.bin"])
        #expect(result.text == "206")
        #expect(server.base.read("part") == Array(bytes[1000...200999]))
        let suffix = try Tools.curl(["-r", "-100", server.url + "/data.bin"])
        #expect(suffix.stdout == Array(bytes.suffix(100)))
        let tooFar = try Tools.curl(["-r", "400000-", "-D", "-", "-o", "/dev/null", server.url + "/data.bin"])
        #expect(tooFar.text.hasPrefix("HTTP/1.1 416"))
        #expect(tooFar.text.contains("Content-Range: bytes */300000\r\n"))
    }

    @Test func conditionalGetGives304() throws {
        let server = try TestHTTPServer()
        let first = try Tools.curl(["-D", "-", "-o", "/dev/null", server.url + "/index.html"])
        let etag = try #require(first.text.split(separator: "\r\n").first { $0.hasPrefix("ETag: ") }?.dropFirst(6))
        let lastModified = try #require(first.text.split(separator: "\r\n").first { $0.hasPrefix("Last-Modified: ") }?.dropFirst(15))
        let byTag = try Tools.curl(["-H", "If-None-Match: \(etag)", "-o", "/dev/null", "-w", "%{http_code}", server.url + "/index.html"])
        #expect(byTag.text == "304")
        let byDate = try Tools.curl(["-H", "If-Modified-Since: \(lastModified)", "-o", "/dev/null", "-w", "%{http_code}", server.url + "/index.html"])
        #expect(byDate.text == "304")
        let changed = try Tools.curl(["-H", "If-None-Match: \"stale\"", "-o", "/dev/null", "-w", "%{http_code}", server.url + "/index.html"])
        #expect(changed.text == "200")
    }

    @Test func fiveMebibytesIntact() throws {
        let server = try TestHTTPServer()
        let bytes = patternBytes(5 * 1024 * 1024, seed: 5)
        try server.write("five.bin", bytes)
        let out = server.base.path + "/five.out"
        let result = try Tools.curl(["-o", out, server.url + "/five.bin"])
        #expect(result.status == 0)
        #expect(server.base.read("five.out") == bytes)
    }

    @Test func traversalWithCurlPathAsIs() throws {
        let server = try TestHTTPServer()
        try server.base.write("secret.txt", "top secret")
        for path in ["/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/a/../../secret.txt"] {
            let result = try Tools.curl(["--path-as-is", "-w", "\n%{http_code}", server.url + path])
            #expect(!result.text.contains("top secret"), "\(path) leaked the file")
            #expect(result.text.hasSuffix("404") || result.text.hasSuffix("400"), "\(path): \(result.text)")
        }
    }

    @Test func headAndRedirectAndErrors() throws {
        let server = try TestHTTPServer()
        try server.write("docs/index.html", "docs")
        let head = try Tools.curl(["-I", server.url + "/index.html"])
        #expect(head.text.contains("Content-Length: 15\r\n"))
        let redirect = try Tools.curl(["-D", "-", "-o", "/dev/null", server.url + "/docs"])
        #expect(redirect.text.hasPrefix("HTTP/1.1 301"))
        #expect(redirect.text.contains("Location: /docs/\r\n"))
        let followed = try Tools.curl(["-L", server.url + "/docs"])
        #expect(followed.text == "docs")
        let post = try Tools.curl(["-X", "POST", "-D", "-", "-o", "/dev/null", server.url + "/index.html"])
        #expect(post.text.hasPrefix("HTTP/1.1 405"))
        #expect(post.text.contains("Allow: GET, HEAD\r\n"))
        let missing = try Tools.curl(["-w", "%{http_code}", "-o", "/dev/null", server.url + "/nope.html"])
        #expect(missing.text == "404")
    }

    @Test func keepAliveReusesOneConnection() throws {
        let server = try TestHTTPServer()
        let result = try Tools.curl(["-v", "-o", "/dev/null", "-o", "/dev/null", server.url + "/index.html", server.url + "/index.html"])
        #expect(result.stderr.contains("Re-using existing") || result.stderr.contains("Reusing existing"))
    }
}
