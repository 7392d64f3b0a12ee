import DNSService
import Foundation
import Logging
import ServerCore
import Testing

/// DNS over TLS (RFC 7858) as the `appserver` command serves it with its generated
/// certificate, and the forwarder reaching a second appserver as its DoT upstream.
@Suite(.enabled(if: ServerProcess.binary != nil, "needs the appserver binary"))
struct DNSOverTLSTests {
    /// appserver serving DNS (the shipped zones unless `zones`) on free ports, DoT included.
    final class Server {
        let folder: TemporaryFolder
        let process: ServerProcess
        let dnsPort: UInt16
        let dotPort: UInt16
        var cacert: String { folder.path + "/data/tls/cert.pem" }

        init(_ extra: [String] = [], zones: String = TestDNSServer.shippedZones) throws {
            folder = try TemporaryFolder("appserver-dot")
            process = try ServerProcess(["--services", "dns", "--listen", "127.0.0.1", "--dns-port", "0", "--dot-port", "0",
                                         "--zones", zones, "--data", folder.path + "/data", "--log-level", "info"] + extra)
            guard let dot = process.listeningPort("dot"), let dns = process.listeningPort("dns, tcp and udp") else {
                throw HTTPSServerError(description: "the server did not start: \(process.stderr)")
            }
            dotPort = dot
            dnsPort = dns
        }

        func kdig(_ arguments: [String]) throws -> Tools.Result {
            try Tools.run("kdig", ["@127.0.0.1", "-p", "\(dotPort)", "+time=5", "+retry=0"] + arguments, timeout: 30)
        }

        /// Plain dig over UDP to the DNS port.
        func dig(_ arguments: [String]) throws -> Tools.Result {
            try Tools.run("dig", ["@127.0.0.1", "-p", "\(dnsPort)", "+time=5", "+tries=1"] + arguments, timeout: 30)
        }
    }

    @Test func dotOffServesNoTLSAndMakesNoCertificate() throws {
        let folder = try TemporaryFolder("appserver-dot-off")
        let process = try ServerProcess(["--services", "dns", "--listen", "127.0.0.1", "--dns-port", "0", "--dot-port", "off",
                                         "--zones", TestDNSServer.shippedZones, "--data", folder.path + "/data"])
        #expect(process.listeningPort("dns, tcp and udp") != nil, "\(process.stderr)")
        #expect(process.logged("dns: DNS over TLS off"))
        #expect(process.stdout.firstMatch(of: try Regex(#"listening on \S+ \(dot[),]"#)) == nil)
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/data/tls"), "no TLS service wants a certificate")
    }

    static let hasKdig = Tools.find("kdig") != nil
    /// BIND's dig speaks DoT from 9.18 on.
    static let digHasTLS = Tools.find("dig") != nil && ((try? Tools.run("dig", ["-h"]).text.contains("+[no]tls")) ?? false)

    static func query(_ name: String, id: UInt16) -> [UInt8] {
        var query = DNSMessage()
        query.id = id
        query.questions = [.init(name: DNSName(name)!, type: .a)]
        return LengthPrefixFramer.frame(query.encode())!
    }

    @Test(.enabled(if: hasKdig, "kdig is not installed (knot-dnsutils)"))
    func kdigVerifiesTheGeneratedCertificate() throws {
        let server = try Server()
        let verified = try server.kdig(["+tls-ca=\(server.cacert)", "+tls-hostname=localhost", "+short", "ns1.example.test", "A"])
        #expect(verified.text == "192.0.2.1\n", "\(verified.stderr)")
        #expect(try server.kdig(["+tls", "+short", "mail.example.test", "A"]).text == "192.0.2.25\n")
        #expect(server.process.logged(matching: try Regex(#"dns 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\#(server.dotPort) tls "ns1\.example\.test\. A" NOERROR"#)))
        let wrongName = try server.kdig(["+tls-ca=\(server.cacert)", "+tls-hostname=other.example", "+short", "ns1.example.test", "A"])
        #expect(wrongName.text.isEmpty && wrongName.stderr.contains("TLS"), "\(wrongName.stderr)")
    }

    @Test(.enabled(if: digHasTLS, "the installed dig has no +tls (BIND 9.18 or later)"))
    func digOverTLS() throws {
        let server = try Server()
        let result = try Tools.run("dig", ["@127.0.0.1", "-p", "\(server.dotPort)", "+tls", "+time=5", "+tries=1", "+short", "ns1.example.test"], timeout: 30)
        #expect(result.text == "192.0.2.1\n", "\(result.stderr)")
    }

    @Test func pipelinedQueriesOnOneConnectionAndStrictALPN() throws {
        let server = try Server()
        let client = try TLSTestClient(port: server.dotPort, alpn: ["dot"], trusting: server.cacert)
        try client.handshake()
        #expect(client.info.alpn == "dot")
        let names = ["ns1.example.test.", "mail.example.test.", "www.example.test.", "nothing.example.test.", "ns1.example.test."]
        #expect(client.write(names.enumerated().flatMap { DNSOverTLSTests.query($1, id: UInt16($0 + 100)) }))
        var framer = LengthPrefixFramer()
        var ids: [UInt16] = []
        let deadline = Date().addingTimeInterval(10)
        while ids.count < names.count && Date() < deadline {
            let bytes = client.read(atLeast: 1)
            if bytes.isEmpty { break }
            bytes.withUnsafeBytes { framer.append($0) }
            while case .message(let reply) = framer.next() { ids.append(try DNSMessage.decode(reply).id) }
        }
        #expect(ids.sorted() == [100, 101, 102, 103, 104])
        // Strict ALPN: only another protocol is refused; none offered is accepted.
        #expect(throws: TLSError.self) { try TLSTestClient(port: server.dotPort, alpn: ["h2"]).handshake() }
        let none = try TLSTestClient(port: server.dotPort)
        try none.handshake()
        #expect(none.write(DNSOverTLSTests.query("ns1.example.test.", id: 7)))
        #expect(none.read(atLeast: 2).count >= 2)
    }

    @Test func aHandshakeNeverFinishedHoldsOnlyItself() throws {
        let server = try Server()
        let silent = try TLSTestClient(port: server.dotPort)
        let truncated = try TLSTestClient(port: server.dotPort)
        truncated.sendRaw([22, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3])
        let plain = try TLSTestClient(port: server.dotPort)
        plain.sendRaw(DNSOverTLSTests.query("ns1.example.test.", id: 9))
        var byte: UInt8 = 0
        #expect(recv(plain.fd, &byte, 1, 0) <= 0, "a plaintext query on the TLS port is closed")
        let other = try TLSTestClient(port: server.dotPort, trusting: server.cacert)
        try other.handshake()
        #expect(other.write(DNSOverTLSTests.query("ns1.example.test.", id: 8)))
        #expect(other.read(atLeast: 2).count >= 2, "served while the others wait")
        #expect(try server.dig(["+short", "ns1.example.test"]).text == "192.0.2.1\n")
        withExtendedLifetime(silent) {}
    }

    @Test(.enabled(if: Tools.find("dig") != nil, "dig is not installed"))
    func theForwarderAsksASecondAppserverOverTLS() throws {
        let upstream = try Server()
        let empty = try TemporaryFolder("zones")
        let forwarder = try Server(["--upstream", "tls://127.0.0.1:\(upstream.dotPort)#localhost", "--upstream-ca", upstream.cacert],
                                   zones: empty.path)
        for (name, address) in [("ns1.example.test", "192.0.2.1"), ("mail.example.test", "192.0.2.25"), ("alpha.hosts.example.test", "192.0.2.101")] {
            #expect(try forwarder.dig(["+short", name]).text == address + "\n")
        }
        // One connection for all three, pipelined and kept: the upstream saw one client port.
        #expect(upstream.process.logged(matching: try Regex(#"alpha\.hosts\.example\.test\. A"#)))
        let ports = Set(upstream.process.stdout.split(separator: "\n").filter { $0.contains(" tls \"") }
            .compactMap { $0.split(separator: " ").dropFirst(3).first })
        #expect(ports.count == 1, "\(ports)")
    }

    @Test(.enabled(if: Tools.find("dig") != nil, "dig is not installed"))
    func anUpstreamThatDoesNotVerifyIsPassedOver() throws {
        let upstream = try Server()
        let empty = try TemporaryFolder("zones")
        let wrong = "tls://127.0.0.1:\(upstream.dotPort)#wrong.example"
        let fallsBack = try Server(["--upstream", wrong, "--upstream", "tls://127.0.0.1:\(upstream.dotPort)#localhost",
                                    "--upstream-ca", upstream.cacert], zones: empty.path)
        #expect(try fallsBack.dig(["+short", "ns1.example.test"]).text == "192.0.2.1\n")
        #expect(fallsBack.process.logged("dns: upstream \(wrong): TLS handshake failed"))
        let alone = try Server(["--upstream", wrong, "--upstream-ca", upstream.cacert], zones: empty.path)
        #expect(try alone.dig(["+noall", "+comments", "ns1.example.test"]).text.contains("status: SERVFAIL"))
        // Without the CA file the system's store does not trust the generated certificate.
        let untrusted = try Server(["--upstream", "tls://127.0.0.1:\(upstream.dotPort)#localhost"], zones: empty.path)
        #expect(try untrusted.dig(["+noall", "+comments", "ns1.example.test"]).text.contains("status: SERVFAIL"))
    }

    /// In this process, with a 1 s idle timeout: a DoT connection that stays quiet is closed.
    @Test func anIdleConnectionIsClosed() throws {
        let zones = try ZoneStore(folder: TestDNSServer.shippedZones)
        var config = DNSConfiguration(responder: DNSResponder(zones: zones, forwarder: nil, allowRecursion: [],
                                                              logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }))
        config.tcpIdleTimeout = 1
        let (pem, key) = try TLSSelfSigned.make(names: ["localhost"], addresses: [])
        let holder = try TLSContextHolder(certificates: [try TLSCertificate(certificatePEM: pem, keyPEM: key)],
                                          ticketKeys: try TLSTicketKeys(), configuration: .init(alpn: ["dot"]))
        let registry = try ListenerRegistry(workers: 1)
        let port = try registry.addTCP(SocketAddress(ip: IPAddress("127.0.0.1")!, port: 0), service: config.dotService(tls: holder)).port
        registry.start()
        defer { registry.shutdown(grace: 0) {} }
        let client = try TLSTestClient(port: port, alpn: ["dot"], timeout: 5)
        try client.handshake()
        #expect(client.write(DNSOverTLSTests.query("ns1.example.test.", id: 1)))
        #expect(client.read(atLeast: 2).count >= 2)
        let started = Date()
        #expect(client.readClosed())
        #expect(Date().timeIntervalSince(started) < 4, "closed by the idle timeout, not the read's")
    }
}
