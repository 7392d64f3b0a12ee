import Glibc
import ServerCore
import Testing

/// What the context negotiates: strict ALPN, TLS 1.2 at least, SNI among certificates,
/// resumption by ticket, before and after a reload.
@Suite struct TLSNegotiationTests {
    /// Self.tls11 and Self.tls12, as the wire numbers them.
    static let tls11: Int32 = 0x0302, tls12: Int32 = 0x0303

    @Test func alpnIsStrict() throws {
        let server = try TLSTestServer(tls: try TLSFixtures.holder(alpn: ["http/1.1"])) { LineHandler() }
        let h2 = try TLSTestClient(port: server.port, alpn: ["h2"])
        #expect(throws: TLSError.self) { try h2.handshake() }
        let both = try TLSTestClient(port: server.port, alpn: ["h2", "http/1.1"])
        try both.handshake()
        #expect(both.info.alpn == "http/1.1")
        let none = try TLSTestClient(port: server.port)
        try none.handshake()
        #expect(none.info.alpn == nil)
    }

    @Test func tls11IsRefusedAnd12Accepted() throws {
        let server = try TLSTestServer(tls: try TLSFixtures.holder()) { LineHandler() }
        let old = try TLSTestClient(port: server.port, maxVersion: Self.tls11)
        #expect(throws: TLSError.self) { try old.handshake() }
        let twelve = try TLSTestClient(port: server.port, maxVersion: Self.tls12)
        try twelve.handshake()
        #expect(twelve.info.version == "TLSv1.2")
    }

    @Test func sniPicksTheMatchingCertificateElseTheFirst() throws {
        let holder = try TLSFixtures.holder([try TLSFixtures.certificate("one.test"), try TLSFixtures.certificate("*.two.test")])
        let server = try TLSTestServer(tls: holder) { LineHandler() }
        for (name, expected) in [("www.two.test", "*.two.test"), ("one.test", "one.test"), ("other.test", "one.test")] {
            let client = try TLSTestClient(port: server.port, serverName: name)
            try client.handshake()
            #expect(client.peerCommonName == expected, "for \(name)")
        }
    }

    @Test(arguments: ["TLSv1.3", "TLSv1.2"]) func sessionsResumeAlsoAfterAReload(version: String) throws {
        let folder = TLSFixtures.folder()
        defer { TLSFixtures.remove(folder) }
        let (cert, key) = try TLSSelfSigned.make(names: ["localhost"], addresses: [])
        #expect(LocalFiles.write(cert, to: folder + "/c.pem") && LocalFiles.write(key, to: folder + "/k.pem"))
        let holder = try TLSContextHolder(files: [.init(certificate: folder + "/c.pem", key: folder + "/k.pem")],
                                          ticketKeys: TLSFixtures.keys, configuration: .init(alpn: []))
        let server = try TLSTestServer(tls: holder) { LineHandler() }
        let max = version == "TLSv1.3" ? 0 : Self.tls12
        func connect(_ session: TLSTestSession?) throws -> TLSTestClient {
            let client = try TLSTestClient(port: server.port, maxVersion: max, session: session)
            try client.handshake()
            // TLS 1.3 tickets come after the handshake: an answer read makes sure they are in.
            #expect(client.write("echo x\n") && client.read(atLeast: 2) == Array("x\n".utf8))
            #expect(client.info.version == version)
            return client
        }
        let first = try connect(nil)
        let session = try #require(first.session)
        #expect(try connect(session).info.resumed)
        #expect(holder.reload() == [])
        #expect(try connect(session).info.resumed, "a ticket from before the reload")
    }
}
