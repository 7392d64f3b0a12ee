import Foundation
import Glibc
import ServerCore
import Testing

/// HTTPS with curl and the certificate appserver made for itself: the same site and
/// behaviour as HTTP, HSTS, the redirect, and hostile first bytes.
@Suite(.enabled(if: ServerProcess.binary != nil && Tools.hasCurl, "the appserver binary or curl is missing"))
struct HTTPSCurlTests {
    @Test func theGeneratedCertificateIsMadeOnceAndTrusted() throws {
        let folder = try HTTPSServer.site()
        var fingerprint = ""
        do {
            let server = try HTTPSServer(folder: folder)
            let result = try server.curl([server.url + "/"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.text == "<h1>hello over tls</h1>\n")
            let made = try #require(server.process.stdout.range(of: #"made a self-signed certificate \S+ \(SHA-256 [0-9A-F:]+\)"#, options: .regularExpression))
            fingerprint = String(server.process.stdout[made].split(separator: " ").last ?? "")
            #expect(server.process.logged("https 127.0.0.1:"))
            #expect(server.process.logged("\"GET /\" 200 24"))
            var info = stat()
            #expect(stat(server.data + "/tls/key.pem", &info) == 0 && info.st_mode & 0o777 == 0o600)
        }
        let again = try HTTPSServer(folder: folder)
        #expect(again.process.stdout.contains("using the self-signed certificate \(again.cacert) (SHA-256 \(fingerprint)"))
        #expect(try again.curl([again.url + "/"]).status == 0)
    }

    @Test func gzipRangesAndLargeFilesOverTLS() throws {
        let folder = try HTTPSServer.site()
        let page = (0..<5000).map { "line \($0) of a compressible page\n" }.joined()
        try folder.write("www/page.html", page)
        let big = patternBytes(3 * 1024 * 1024 + 5)
        try folder.write("www/big.bin", big)
        let server = try HTTPSServer(folder: folder)
        let gz = folder.path + "/page.gz"
        let head = try server.curl(["-H", "Accept-Encoding: gzip", "-D", "-", "-o", gz, server.url + "/page.html"])
        #expect(head.text.contains("Content-Encoding: gzip\r\n"))
        #expect(try Tools.run("gzip", ["-dc", gz]).text == page)
        let range = try server.curl(["-D", "-", "-r", "10-19", server.url + "/page.html"])
        #expect(range.text.hasPrefix("HTTP/1.1 206 Partial Content\r\n"))
        #expect(range.text.hasSuffix(String(page.dropFirst(10).prefix(10))))
        let out = folder.path + "/big.out"
        #expect(try server.curl(["-o", out, server.url + "/big.bin"]).status == 0)
        #expect(folder.read("big.out") == big)
    }

    @Test func hstsOnHTTPSAndARedirectOnHTTP() throws {
        let server = try HTTPSServer(["--hsts", "31536000", "--http-redirect"])
        let secure = try server.curl(["-D", "-", "-o", "/dev/null", server.url + "/"])
        #expect(secure.text.contains("Strict-Transport-Security: max-age=31536000\r\n"))
        let plain = try Tools.curl(["-D", "-", "-o", "/dev/null", "http://localhost:\(server.httpPort)/a/b?c=d"])
        #expect(plain.text.hasPrefix("HTTP/1.1 301 Moved Permanently\r\n"))
        #expect(plain.text.contains("Location: https://localhost:\(server.httpsPort)/a/b?c=d\r\n"))
        #expect(!plain.text.contains("Strict-Transport-Security"))
        let followed = try server.curl(["-L", "http://localhost:\(server.httpPort)/"])
        #expect(followed.text == "<h1>hello over tls</h1>\n")
    }

    @Test func plainHTTPGarbageAndStalledHandshakesDisturbNoOne() throws {
        let server = try HTTPSServer()
        let stalled = try RawClient(port: server.httpsPort)
        stalled.send([22, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3])
        let plain = try RawClient(port: server.httpsPort)
        plain.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let answer = String(decoding: plain.readAll(), as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        #expect(answer.contains("The plain HTTP request was sent to HTTPS port"))
        let garbage = try RawClient(port: server.httpsPort)
        garbage.send([0xFF, 0, 0x13, 0x37, 1, 2, 3, 4])
        #expect(garbage.readAll().isEmpty)
        // The truncated ClientHello still waits for its deadline; others are served meanwhile.
        #expect(try server.curl([server.url + "/"]).text == "<h1>hello over tls</h1>\n")
    }
}
