import Foundation
import Glibc
import Testing

/// Binding low ports and dropping root: only meaningful when the tests run as root (as in CI).
@Suite(.enabled(if: getuid() == 0 && ServerProcess.binary != nil, "not running as root: skipping the privilege tests"))
struct PrivilegeTests {
    @Test(.enabled(if: Tools.find("setpriv") != nil, "setpriv is not installed"))
    func lowPortWithoutRootSaysWhatToDo() throws {
        let site = try TemporaryFolder()
        let binary = try #require(ServerProcess.binary)
        let result = try Tools.run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", binary, "--services", "http",
                                               "--www", site.path, "--listen", "127.0.0.1", "--http-port", "1"])
        #expect(result.status == 1)
        #expect(result.stderr == "appserver: cannot bind 127.0.0.1:1: permission denied. Ports below 1024 need root "
            + "(appserver drops privileges after binding), or pick another port with --http-port\n")
    }

    @Test func rootDropsToTheNamedUserAfterBinding() throws {
        let site = try TemporaryFolder()
        try site.write("index.html", "ok")
        let server = try ServerProcess(["--services", "http", "--www", site.path, "--listen", "127.0.0.1", "--http-port", "0", "--user", "nobody"])
        let port = try #require(server.listeningPort())
        let client = try RawClient(port: port)
        client.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(RawResponse.parseAll(client.readAll()).first?.body == Array("ok".utf8))
        // The serving child drops to the user; the supervisor keeps root, to start the next one.
        let child = try #require(server.child("http"))
        #expect(try uids(of: child) == ["65534", "65534", "65534", "65534"])
        #expect(try uids(of: server.process.processIdentifier) == ["0", "0", "0", "0"])
    }

    @Test func singleProcessDropsToTheNamedUserItself() throws {
        let site = try TemporaryFolder()
        try site.write("index.html", "ok")
        let server = try ServerProcess(["--services", "http", "--www", site.path, "--listen", "127.0.0.1", "--http-port", "0",
                                        "--user", "nobody", "--single-process"])
        _ = try #require(server.listeningPort())
        #expect(try uids(of: server.process.processIdentifier) == ["65534", "65534", "65534", "65534"])
    }

    private func uids(of pid: pid_t) throws -> [Substring] {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        return Array(status.split(separator: "\n").first { $0.hasPrefix("Uid:") }?.split(whereSeparator: \.isWhitespace).dropFirst() ?? [])
    }

    @Test func unknownUserIsAStartupError() throws {
        let site = try TemporaryFolder()
        let server = try ServerProcess(["--services", "http", "--www", site.path, "--listen", "127.0.0.1", "--http-port", "0", "--user", "no-such-user-here"])
        #expect(server.exitStatus() == 1)
        #expect(server.stderr == "appserver: no such user 'no-such-user-here' to run as (--user)\n")
    }
}
