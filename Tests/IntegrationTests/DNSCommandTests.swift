import Foundation
import Glibc
import Testing

/// The DNS service as the `appserver` command runs it: zone errors at startup, SIGHUP reloads.
@Suite(.enabled(if: ServerProcess.binary != nil && Tools.find("dig") != nil, "needs the appserver binary and dig"))
struct DNSCommandTests {
    static let zone = "$TTL 60\n@ SOA ns hm 1 1 1 1 30\nhost A 192.0.2.1\n"

    func start(_ zones: TemporaryFolder) throws -> (ServerProcess, UInt16) {
        let server = try ServerProcess(["--services", "dns", "--zones", zones.path, "--dns-port", "0", "--dot-port", "0", "--data", zones.path + "/data", "--listen", "127.0.0.1"])
        let port = try #require(server.listeningPort())
        return (server, port)
    }

    func dig(_ port: UInt16, _ name: String) throws -> String {
        try Tools.run("dig", ["@127.0.0.1", "-p", "\(port)", "+time=3", "+tries=1", "+short", name]).text
    }

    @Test func zoneSyntaxErrorStopsStartupWithFileAndLine() throws {
        let zones = try TemporaryFolder("zones")
        try zones.write("broken.test.zone", "$TTL 60\n@ SOA ns hm 1 1 1 1 30\n\nwww A 192.0.2.300\n")
        let server = try ServerProcess(["--services", "dns", "--zones", zones.path, "--dns-port", "0", "--dot-port", "0", "--data", zones.path + "/data", "--listen", "127.0.0.1"])
        #expect(server.exitStatus() == 1)
        #expect(server.stderr == "appserver: \(zones.path)/broken.test.zone:4: expected an IPv4 address, got '192.0.2.300'\n")
    }

    @Test func missingZonesFolderAndZoneWithoutSOA() throws {
        let zones = try TemporaryFolder("zones")
        let missing = try ServerProcess(["--services", "dns", "--zones", "/nonexistent/zones", "--dns-port", "0", "--dot-port", "0",
                                         "--data", zones.path + "/data", "--listen", "127.0.0.1"])
        #expect(missing.exitStatus() == 1)
        #expect(missing.stderr == "appserver: cannot open the zones folder /nonexistent/zones: No such file or directory\n")
        try zones.write("nosoa.test.zone", "$TTL 60\nwww A 192.0.2.1\n")
        let server = try ServerProcess(["--services", "dns", "--zones", zones.path, "--dns-port", "0", "--dot-port", "0", "--data", zones.path + "/data", "--listen", "127.0.0.1"])
        #expect(server.exitStatus() == 1)
        #expect(server.stderr == "appserver: \(zones.path)/nosoa.test.zone: no SOA record at the zone apex nosoa.test.\n")
    }

    @Test func sighupReloadsAndKeepsTheLastGoodZone() throws {
        let zones = try TemporaryFolder("zones")
        try zones.write("reload.test.zone", DNSCommandTests.zone)
        let (server, port) = try start(zones)
        #expect(try dig(port, "host.reload.test") == "192.0.2.1\n")
        try zones.write("reload.test.zone", DNSCommandTests.zone + "added A 192.0.2.2\n")
        server.signal(SIGHUP)
        let deadline = Date().addingTimeInterval(5)
        while try dig(port, "added.reload.test").isEmpty && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        #expect(try dig(port, "added.reload.test") == "192.0.2.2\n")
        try zones.write("reload.test.zone", DNSCommandTests.zone + "broken A nonsense\n")
        server.signal(SIGHUP)
        let logged = Date().addingTimeInterval(5)
        while !server.stdout.contains("keeping the previous version") && Date() < logged { Thread.sleep(forTimeInterval: 0.1) }
        #expect(server.stdout.contains("reload.test.zone:4: expected an IPv4 address, got 'nonsense' (keeping the previous version)"))
        #expect(try dig(port, "added.reload.test") == "192.0.2.2\n")
        // Issue 11: a `\#` length near Int.max overflowed while parsing and the SIGHUP killed the server.
        try zones.write("reload.test.zone", DNSCommandTests.zone + "huge TYPE65534 \\# 9223372036854775807 00\n")
        server.signal(SIGHUP)
        #expect(server.logged("reload.test.zone:4: expected an RDATA length (0 to 65535), got '9223372036854775807' (keeping the previous version)"))
        #expect(try dig(port, "added.reload.test") == "192.0.2.2\n")
        server.signal(SIGTERM)
        #expect(server.exitStatus() == 0)
    }
}
