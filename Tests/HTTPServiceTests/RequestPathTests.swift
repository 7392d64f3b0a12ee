import Testing
@testable import HTTPService

@Suite struct RequestPathTests {
    @Test(arguments: [
        ("/", [String](), true),
        ("/index.html", ["index.html"], false),
        ("/a/b/", ["a", "b"], true),
        ("/a//b", ["a", "b"], false),
        ("/a/./b", ["a", "b"], false),
        ("/a/../b", ["b"], false),
        ("/../../etc/passwd", ["etc", "passwd"], false),
        ("/%2e%2e/%2e%2e/etc/passwd", ["etc", "passwd"], false),
        ("/..%2f..%2fetc%2fpasswd", ["etc", "passwd"], false),
        ("/a/%2E%2E", [], true),
        ("/hello%20world.txt", ["hello world.txt"], false),
        ("/caf%C3%A9", ["café"], false),
        ("/.well-known/security.txt", [".well-known", "security.txt"], false),
        ("/%252e%252e/x", ["%2e%2e", "x"], false),
        ("/a/b/../../..", [], true),
        ("/a/b/..", ["a"], true),
        ("/a/bc/../d", ["a", "d"], false),
    ])
    func resolves(_ raw: String, _ segments: [String], _ directory: Bool) {
        #expect(RequestPath(Substring(raw)) == .file(relative: segments.joined(separator: "/"), directorySyntax: directory))
    }

    @Test(arguments: ["/a%00b", "/%5c..%5cetc", "/a\\b", "/%zz", "/%4", "/%ff%fe"])
    func invalid(_ raw: String) {
        #expect(RequestPath(Substring(raw)) == .invalid)
    }

    @Test(arguments: ["/.git/config", "/.env", "/a/.htaccess", "/%2egit/HEAD"])
    func hidden(_ raw: String) {
        #expect(RequestPath(Substring(raw)) == .hidden)
    }

    @Test func encodesForLocation() {
        #expect(RequestPath.encode("a b/ü") == "/a%20b/%C3%BC")
        #expect(RequestPath.encode("") == "/")
        #expect(RequestPath.encode("evil.com") == "/evil.com")
    }
}
