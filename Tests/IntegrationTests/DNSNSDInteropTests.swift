import Foundation
import Testing

/// NSD (Debian's nsd) beside appserver, both ways: NSD as a secondary of appserver (the same
/// answers, NOTIFY after an edit and SIGHUP, TSIG required), and appserver as a secondary of
/// NSD, following a change after NSD's NOTIFY.
@Suite(.enabled(if: SecondaryFixture.canRunNSD && Tools.find("dig") != nil, "nsd, perl or dig is not installed: skipping the NSD interop tests"))
struct DNSNSDInteropTests {
    static let secret = "c2VjcmV0IGZvciB0aGUgdHJhbnNmZXIgdGVzdHMsIDMyIGI="

    func primary(_ fixture: SecondaryFixture, notify port: UInt16, extra: [String] = []) throws -> (ServerProcess, UInt16) {
        let server = try ServerProcess(["--services", "dns", "--zones", fixture.zones, "--data", fixture.root + "/primary-data",
                                        "--dns-port", "0", "--dot-port", "0", "--listen", "127.0.0.1",
                                        "--dns-transfer-allow", "127.0.0.0/8", "--dns-notify", "127.0.0.1:\(port)"] + extra)
        return (server, try #require(server.listeningPort("dns"), "\(server.stderr)"))
    }

    @Test func nsdAsASecondaryOfAppserverAnswersTheSameAndFollowsANotify() throws {
        let fixture = try SecondaryFixture()
        defer { fixture.remove() }
        try fixture.writeZone(serial: 1, www: "192.0.2.1")
        let nsdPort = try SecondaryFixture.freePort()
        let (server, port) = try primary(fixture, notify: nsdPort)
        let nsd = try fixture.startNSD(port: nsdPort, zone: "  request-xfr: AXFR 127.0.0.1@\(port) NOKEY\n  allow-notify: 127.0.0.1 NOKEY\n")
        #expect(SecondaryFixture.eventually { SecondaryFixture.short(nsdPort, "www.example.test") == "192.0.2.1" },
                "\(nsd.stderr) \((try? String(contentsOfFile: fixture.nsd + "/nsd.log", encoding: .utf8)) ?? "")")
        #expect(SecondaryFixture.answers(nsdPort) == SecondaryFixture.answers(port))

        try fixture.writeZone(serial: 2, www: "192.0.2.2")
        server.signal(SIGHUP)
        #expect(SecondaryFixture.eventually { SecondaryFixture.short(nsdPort, "www.example.test") == "192.0.2.2" }, "\(server.stdout)")
        #expect(server.logged("to 127.0.0.1:\(nsdPort): NOERROR"))
    }

    @Test func withATSIGKeyRequiredNSDWithTheKeyTransfersAndDigWithoutItIsRefused() throws {
        let fixture = try SecondaryFixture()
        defer { fixture.remove() }
        try fixture.writeZone(serial: 1, www: "192.0.2.1")
        let keys = fixture.root + "/keys.conf"
        let key = "key \"xfr.test\" { algorithm hmac-sha256; secret \"\(DNSNSDInteropTests.secret)\"; };\n"
        try key.write(toFile: keys, atomically: true, encoding: .utf8)
        chmod(keys, 0o600)
        let nsdPort = try SecondaryFixture.freePort()
        let (server, port) = try primary(fixture, notify: nsdPort, extra: ["--dns-tsig-keys", keys, "--dns-transfer-key", "xfr.test"])
        let nsdKey = "key:\n  name: xfr.test\n  algorithm: hmac-sha256\n  secret: \"\(DNSNSDInteropTests.secret)\"\n"
        let nsd = try fixture.startNSD(port: nsdPort, zone: "  request-xfr: AXFR 127.0.0.1@\(port) xfr.test\n  allow-notify: 127.0.0.1 xfr.test\n",
                                       keys: nsdKey)
        #expect(SecondaryFixture.eventually { SecondaryFixture.short(nsdPort, "www.example.test") == "192.0.2.1" }, "\(nsd.stderr)")
        let unsigned = try Tools.run("dig", ["@127.0.0.1", "-p", "\(port)", "+time=2", "+tries=1", "example.test", "AXFR"])
        #expect(unsigned.text.contains("Transfer failed"))
        if Tools.find("kdig") != nil {
            let signed = try Tools.run("kdig", ["@127.0.0.1", "-p", "\(port)", "-y", "hmac-sha256:xfr.test:\(DNSNSDInteropTests.secret)", "example.test", "AXFR"])
            #expect(signed.text.contains("192.0.2.1"), "\(signed.text) \(signed.stderr)")
        }
        withExtendedLifetime(server) {}
    }

    @Test func appserverAsASecondaryOfNSDFollowsAChangeAfterItsNotify() throws {
        let fixture = try SecondaryFixture()
        defer { fixture.remove() }
        try FileManager.default.createDirectory(atPath: fixture.root + "/empty", withIntermediateDirectories: true)
        try fixture.writeZone(serial: 1, www: "192.0.2.1", in: fixture.nsd)
        let nsdPort = try SecondaryFixture.freePort(), port = try SecondaryFixture.freePort()
        let nsd = try fixture.startNSD(port: nsdPort, zone: "  provide-xfr: 127.0.0.0/8 NOKEY\n  notify: 127.0.0.1@\(port) NOKEY\n")
        #expect(SecondaryFixture.eventually { SecondaryFixture.short(nsdPort, "www.example.test") == "192.0.2.1" }, "\(nsd.stderr)")
        let secondary = try DNSSecondaryTests.secondary(fixture, port: port, primary: "127.0.0.1:\(nsdPort)")
        #expect(SecondaryFixture.eventually { SecondaryFixture.short(port, "www.example.test") == "192.0.2.1" }, "\(secondary.stdout)")
        #expect(SecondaryFixture.answers(port) == SecondaryFixture.answers(nsdPort))

        try fixture.writeZone(serial: 2, www: "192.0.2.2", in: fixture.nsd)
        nsd.signal(SIGHUP)
        #expect(SecondaryFixture.eventually { SecondaryFixture.short(port, "www.example.test") == "192.0.2.2" },
                "\(secondary.stdout) \((try? String(contentsOfFile: fixture.nsd + "/nsd.log", encoding: .utf8)) ?? "")")
        #expect(secondary.logged("NOTIFY from the primary: refreshing"))
    }
}
