import Glibc
import ServerCore
import Synchronization
import Testing

/// Client-mode TLS over loopback: `ListenerRegistry.connect` with a `TLSClientTarget`
/// against a TLS service of the registry, verifying the certificate, offering ALPN, and
/// resuming the session on the next connection.
@Suite struct TLSClientTests {
    /// Says `echo hello` once open, and records what the connection saw.
    final class Client: ConnectionHandler, @unchecked Sendable {
        let opened = Mutex<TLSInfo?>(nil)
        let received = Mutex<[UInt8]>([])
        let closed = Mutex<CloseReason?>(nil)

        func connectionOpened(_ connection: any ConnectionContext) {
            opened.withLock { $0 = connection.tls }
            connection.write(Array("echo hello\n".utf8))
        }

        func connection(_ connection: any ConnectionContext, received bytes: UnsafeRawBufferPointer) {
            received.withLock { $0 += Array(bytes) }
        }

        func connectionClosed(_ connection: any ConnectionContext, reason: CloseReason) {
            closed.withLock { $0 = reason }
        }
    }

    let folder = TLSFixtures.folder()
    let caFile: String
    let certificate: TLSCertificate

    init() throws {
        let (pem, key) = try TLSSelfSigned.make(names: ["upstream.test"], addresses: [IPAddress("127.0.0.1")!])
        caFile = folder + "/ca.pem"
        try #require(LocalFiles.write(pem, to: caFile))
        certificate = try TLSCertificate(certificatePEM: pem, keyPEM: key)
    }

    /// Connects to `server` as `name`, and waits until the connection opened or closed.
    func connect(_ server: TLSTestServer, _ target: TLSClientTarget) -> Client {
        let client = Client()
        server.registry.connect(to: SocketAddress(ip: IPAddress("127.0.0.1")!, port: server.port), from: nil,
                                service: TCPService(clientTLS: target) { _ in client }, timeout: 5)
        #expect(eventually { client.received.withLock { $0.count } >= 6 || client.closed.withLock { $0 } != nil })
        return client
    }

    @Test func verifiedByNameWithALPNThenResumed() throws {
        defer { TLSFixtures.remove(folder) }
        let server = try TLSTestServer(tls: try TLSFixtures.holder([certificate], alpn: ["dot"])) { LineHandler() }
        let target = TLSClientTarget(context: try TLSClientContext(caFile: caFile, alpn: ["dot"]), name: "upstream.test")
        let first = connect(server, target)
        #expect(first.received.withLock { $0 } == Array("hello\n".utf8))
        let info = try #require(first.opened.withLock { $0 })
        #expect(info.version == "TLSv1.3" && info.alpn == "dot" && !info.resumed)
        #expect(info.serverName == "upstream.test", "the name goes out as SNI")
        // The session ticket came after the handshake, with the reply: the next connection resumes it.
        let second = connect(server, target)
        #expect(second.received.withLock { $0 } == Array("hello\n".utf8))
        #expect(second.opened.withLock { $0 }?.resumed == true)
    }

    @Test func anAddressIsCheckedAgainstTheCertificatesAddresses() throws {
        defer { TLSFixtures.remove(folder) }
        let server = try TLSTestServer(tls: try TLSFixtures.holder([certificate])) { LineHandler() }
        let byAddress = connect(server, TLSClientTarget(context: try TLSClientContext(caFile: caFile, alpn: []), name: "127.0.0.1"))
        #expect(byAddress.received.withLock { $0 } == Array("hello\n".utf8))
        let otherAddress = connect(server, TLSClientTarget(context: try TLSClientContext(caFile: caFile, alpn: []), name: "127.0.0.2"))
        #expect(otherAddress.opened.withLock { $0 } == nil && otherAddress.closed.withLock { $0 } == .tlsFailed)
    }

    @Test func aWrongNameAnUntrustedCertificateOrAnotherProtocolNeverOpens() throws {
        defer { TLSFixtures.remove(folder) }
        let server = try TLSTestServer(tls: try TLSFixtures.holder([certificate], alpn: ["http/1.1"])) { LineHandler() }
        let trusted = try TLSClientContext(caFile: caFile, alpn: ["http/1.1"])
        let wrongName = connect(server, TLSClientTarget(context: trusted, name: "other.test"))
        // The system's store does not hold our self-signed certificate.
        let untrusted = connect(server, TLSClientTarget(context: try TLSClientContext(caFile: nil, alpn: ["http/1.1"]), name: "upstream.test"))
        let otherALPN = connect(server, TLSClientTarget(context: try TLSClientContext(caFile: caFile, alpn: ["dot"]), name: "upstream.test"))
        for client in [wrongName, untrusted, otherALPN] {
            #expect(client.opened.withLock { $0 } == nil, "the handler never hears of an unverified peer")
            #expect(client.closed.withLock { $0 } == .tlsFailed)
            #expect(client.received.withLock { $0 }.isEmpty)
        }
        #expect(connect(server, TLSClientTarget(context: trusted, name: "upstream.test")).received.withLock { $0 } == Array("hello\n".utf8))
    }

    @Test func aMissingOrBrokenCAFileIsOneLine() throws {
        defer { TLSFixtures.remove(folder) }
        #expect(throws: TLSError.self) { try TLSClientContext(caFile: folder + "/none.pem", alpn: []) }
        #expect(LocalFiles.write(Array("not a certificate\n".utf8), to: folder + "/bad.pem"))
        do {
            _ = try TLSClientContext(caFile: folder + "/bad.pem", alpn: [])
            Issue.record("a file with no certificate loaded")
        } catch {
            #expect(error.description.hasPrefix(folder + "/bad.pem: "))
        }
    }

    @Test func aPeerThatNeverAnswersTheHandshakeMeetsTheDeadline() throws {
        defer { TLSFixtures.remove(folder) }
        var limits = ConnectionLimits()
        limits.handshakeTimeout = 1
        // A plaintext service: it reads the ClientHello and says nothing.
        let server = try TLSTestServer(tls: nil, limits: limits) { LineHandler() }
        let started = time(nil)
        let client = connect(server, TLSClientTarget(context: try TLSClientContext(caFile: caFile, alpn: []), name: "upstream.test"))
        #expect(client.closed.withLock { $0 } == .tlsFailed || client.closed.withLock { $0 } == .timeout)
        #expect(client.opened.withLock { $0 } == nil)
        #expect(time(nil) - started <= 4)
    }
}
