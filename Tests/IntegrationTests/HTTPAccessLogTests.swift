import Foundation
import Testing

/// Access lines carry wire text escaped; answers that nginx gives differently are aligned.
@Suite struct HTTPAccessLogTests {
    @Test func aQuoteInTheTargetIsEscaped() throws {
        let server = try TestHTTPServer()
        let responses = try server.exchange("GET /a\"b\\c\u{E9}?x=\"_200_0 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        #expect(responses.first?.status == 400 || responses.first?.status == 404)
        let line = try #require(server.log.line(containing: "\"GET /a"), "\(server.log.all)")
        #expect(line.contains("\"GET /a\\x22b\\x5Cc\\xC3\\xA9?x=\\x22_200_0\" "), "\(line)")
        #expect(!line.contains("\n") && !line.contains("\r"))
    }

    /// The target is decoded as UTF-8 (a byte that is not becomes U+FFFD) before it is logged.
    @Test func aByteThatIsNotUTF8IsEscapedToo() throws {
        let server = try TestHTTPServer()
        let client = try RawClient(port: server.port)
        client.send(Array("GET /x".utf8) + [0xFF, 0x22] + Array(" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".utf8))
        #expect(RawResponse.parseAll(client.readAll()).first?.status == 404)
        #expect(server.log.line(containing: "\"GET /x\\xEF\\xBF\\xBD\\x22\" 404") != nil, "\(server.log.all)")
    }

    @Test func aTargetWithQuoteAndNewlineIsOneLine() throws {
        let server = try TestHTTPServer()
        // The LF ends the request line early: a 400, logged as one line that forges nothing.
        let responses = try server.exchange("GET /x\"\nforged 200 1 HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(responses.first?.status == 400)
        let line = try #require(server.log.line(containing: " 400 "), "\(server.log.all)")
        #expect(!line.contains("\n") && !line.contains("forged"), "\(line)")
        #expect(server.log.all.count == 1, "\(server.log.all)")
    }

    @Test func aFileWithATrailingSlashIsNotFound() throws {
        let server = try TestHTTPServer()
        try server.write("plain.txt", "plain")
        try server.write("sub/data.json", "{}")
        for path in ["/plain.txt/", "/sub/data.json/", "/plain.txt/.", "/sub/data.json%2F"] {
            let code = try Tools.curl(["-s", "-w", "%{http_code}", "-o", "/dev/null", "--path-as-is", server.url + path])
            #expect(code.text == "404", "\(path)")
        }
        #expect(try Tools.curl(["-s", server.url + "/plain.txt"]).text == "plain")
        let responses = try server.exchange("GET /sub/data.json/ HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        #expect(responses.first?.status == 404)
        // A folder still answers with its slash, and redirects to it without.
        #expect(try server.exchange("GET /sub HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").first?.status == 301)
    }

    @Test func unknownMethodsAre501AndKnownOnes405() throws {
        let server = try TestHTTPServer()
        for method in ["get", "FOO", "Get", "PROPFIND"] {
            let responses = try server.exchange("\(method) / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            #expect(responses.first?.status == 501, "\(method)")
            #expect(responses.first?.headers["allow"] == nil, "\(method)")
        }
        for method in ["POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH"] {
            let responses = try server.exchange("\(method) / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            #expect(responses.first?.status == 405, "\(method)")
            #expect(responses.first?.headers["allow"] == "GET, HEAD", "\(method)")
        }
        let curl = try Tools.curl(["-s", "-X", "FOO", "-w", "%{http_code}", "-o", "/dev/null", server.url + "/index.html"])
        #expect(curl.text == "501")
        #expect(server.log.line(containing: "\"FOO /index.html\" 501") != nil, "\(server.log.all)")
        // The connection stays usable after a 501.
        let client = try RawClient(port: server.port)
        client.send("FOO / HTTP/1.1\r\nHost: t\r\n\r\nGET /index.html HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        #expect(RawResponse.parseAll(client.readAll()).map(\.status) == [501, 200])
    }
}
