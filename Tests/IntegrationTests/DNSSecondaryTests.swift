import Foundation
import Testing

/// appserver as a secondary of another appserver: the first transfer, NOTIFY after an edit
/// and a reload, the copy kept across a restart; and of hostile primaries, whose transfers
/// fail and leave the copy we had.
@Suite(.enabled(if: Tools.find("dig") != nil, "dig is not installed (dnsutils): skipping the secondary tests"))
struct DNSSecondaryTests {
    static func secondary(_ fixture: SecondaryFixture, port: UInt16, primary: String) throws -> ServerProcess {
        try ServerProcess(["--services", "dns", "--zones", fixture.root + "/empty", "--data", fixture.data, "--dns-port", "\(port)", "--dot-port", "0",
                           "--listen", "127.0.0.1", "--dns-secondary", "example.test=\(primary)"])
    }

    @Test func aSecondaryAppserverCopiesTheZoneFollowsANotifyAndKeepsItsCopy() throws {
        let fixture = try SecondaryFixture()
        defer { fixture.remove() }
        try FileManager.default.createDirectory(atPath: fixture.root + "/empty", withIntermediateDirectories: true)
        try fixture.writeZone(serial: 1, www: "192.0.2.1")
        let port = try SecondaryFixture.freePort()
        let primary = try ServerProcess(["--services", "dns", "--zones", fixture.zones, "--data", fixture.root + "/primary-data",
                                        "--dns-port", "0", "--dot-port", "0", "--listen", "127.0.0.1",
                                         "--dns-transfer-allow", "127.0.0.0/8", "--dns-notify", "127.0.0.1:\(port)"])
        let primaryPort = try #require(primary.listeningPort("dns"), "\(primary.stderr)")
        var secondary: ServerProcess? = try DNSSecondaryTests.secondary(fixture, port: port, primary: "127.0.0.1:\(primaryPort)")
        #expect(SecondaryFixture.eventually { SecondaryFixture.short(port, "www.example.test") == "192.0.2.1" }, "\(secondary?.stdout ?? "")")
        #expect(SecondaryFixture.answers(port) == SecondaryFixture.answers(primaryPort))

        try fixture.writeZone(serial: 2, www: "192.0.2.2")
        primary.signal(SIGHUP)
        // The refresh interval is an hour: only the NOTIFY brings the change this soon.
        #expect(SecondaryFixture.eventually { SecondaryFixture.short(port, "www.example.test") == "192.0.2.2" },
                "\(primary.stdout) \(secondary?.stdout ?? "")")
        #expect(secondary?.logged("NOTIFY from the primary: refreshing") == true)
        let stored = try String(contentsOfFile: fixture.data + "/dns/example.test.zone", encoding: .utf8)
        #expect(stored.contains("serial 2"))

        // Restarted with the primary gone: the kept copy answers at once.
        secondary = nil
        primary.signal(SIGTERM)
        _ = primary.exitStatus()
        secondary = try DNSSecondaryTests.secondary(fixture, port: port, primary: "127.0.0.1:\(primaryPort)")
        _ = secondary?.listeningPort("dns")
        #expect(SecondaryFixture.short(port, "www.example.test") == "192.0.2.2")
        #expect(secondary?.logged("transfer from 127.0.0.1:\(primaryPort) failed") == true)
    }

    @Test func aNotifyFromAnotherAddressIsRefused() throws {
        let fixture = try SecondaryFixture()
        defer { fixture.remove() }
        try FileManager.default.createDirectory(atPath: fixture.root + "/empty", withIntermediateDirectories: true)
        let port = try SecondaryFixture.freePort()
        let secondary = try DNSSecondaryTests.secondary(fixture, port: port, primary: "127.0.0.9:53")
        _ = try #require(secondary.listeningPort("dns"))
        let result = try Tools.run("dig", ["@127.0.0.1", "-p", "\(port)", "-b", "127.0.0.2", "+time=2", "+tries=1", "+opcode=notify", "example.test", "SOA"])
        #expect(result.text.contains("REFUSED"), "\(result.text)")
        #expect(secondary.logged("NOTIFY refused: not from the zone's primary"))
        // No copy yet: SERVFAIL, not REFUSED, for a zone we serve.
        let query = try Tools.run("dig", ["@127.0.0.1", "-p", "\(port)", "+time=2", "+tries=1", "www.example.test"])
        #expect(query.text.contains("SERVFAIL"))
    }

    /// A primary that answers every transfer with `reply(id)` (framed messages), or not at all.
    @Test(arguments: HostilePrimary.Behaviour.allCases)
    func aHostilePrimaryLeavesTheCopyWeHad(_ behaviour: HostilePrimary.Behaviour) throws {
        let fixture = try SecondaryFixture()
        defer { fixture.remove() }
        try FileManager.default.createDirectory(atPath: fixture.root + "/empty", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: fixture.data + "/dns", withIntermediateDirectories: true)
        try fixture.writeZone(serial: 5, www: "192.0.2.5", in: fixture.data + "/dns")
        let hostile = try HostilePrimary(behaviour)
        let port = try SecondaryFixture.freePort()
        let secondary = try DNSSecondaryTests.secondary(fixture, port: port, primary: "127.0.0.1:\(hostile.port)")
        _ = try #require(secondary.listeningPort("dns"))
        #expect(secondary.logged(behaviour.logged, timeout: behaviour == .stall ? 25 : 10), "\(secondary.stdout)")
        #expect(secondary.logged("keeping the previous copy"))
        #expect(SecondaryFixture.short(port, "www.example.test") == "192.0.2.5")
        #expect(!(try String(contentsOfFile: fixture.data + "/dns/example.test.zone", encoding: .utf8)).contains("evil"))
    }
}
