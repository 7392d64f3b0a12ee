import Glibc
import ServerCore
import Synchronization
import Testing

/// Session scopes on real loopback sockets: a session resumes only on a connection of the
/// scope it was issued in, a scope may refuse full handshakes, and one may take an end of
/// stream without close_notify for the failure it is.
@Suite struct TLSSessionScopeTests {
    /// Starts TLS itself at open (nothing queued: at once), echoes lines, records how it closed.
    final class ScopedHandler: ConnectionHandler, @unchecked Sendable {
        let context: TLSServerContext
        let ended = Mutex<String?>(nil)
        private var framer = LineFramer(maxLength: 1024)

        init(_ context: TLSServerContext) { self.context = context }

        func connectionOpened(_ connection: any ConnectionContext) { connection.startTLS(context) }

        func connection(_ connection: any ConnectionContext, received bytes: UnsafeRawBufferPointer) {
            framer.append(bytes)
            while case .line(let line) = framer.next() { connection.write(line + [10]) }
        }

        func connectionReceivedEOF(_ connection: any ConnectionContext) {
            ended.withLock { $0 = "end of stream" }
            connection.closeAfterFlush()
        }

        func connectionClosed(_ connection: any ConnectionContext, reason: CloseReason) {
            ended.withLock { $0 = $0 ?? reason.rawValue }
        }
    }

    /// A plaintext service whose connections start TLS on `context` as they open.
    func server(_ context: TLSServerContext, _ handler: ScopedHandler? = nil) throws -> TLSTestServer {
        try TLSTestServer(tls: nil) { handler ?? ScopedHandler(context) }
    }

    /// Handshakes, echoes a line (which brings TLS 1.3's tickets), and gives the session.
    func resumable(_ port: UInt16, session: TLSTestSession? = nil) throws -> (resumed: Bool, session: TLSTestSession?) {
        let client = try TLSTestClient(port: port, session: session)
        try client.handshake()
        #expect(client.write("ping\n"))
        #expect(client.read(atLeast: 5) == Array("ping\n".utf8))
        return (client.info.resumed, client.session)
    }

    @Test func sessionsResumeOnlyWithinTheirScope() throws {
        let base = try TLSFixtures.holder().current
        let a = TLSSessionScope(), b = TLSSessionScope()
        let serverA = try server(base.scoped(to: a)), serverB = try server(base.scoped(to: b))
        let first = try resumable(serverA.port)
        #expect(!first.resumed)
        let session = try #require(first.session)
        #expect(try resumable(serverB.port, session: session).resumed == false, "another scope's session is a full handshake")
        #expect(try resumable(serverA.port, session: session).resumed, "its own scope resumes it")
        // A second context of the same scope (a data connection's) resumes it as well.
        let sibling = try server(base.scoped(to: a, requiresResumption: true))
        #expect(try resumable(sibling.port, session: session).resumed)
    }

    @Test func aScopeThatRequiresResumptionRefusesAFullHandshake() throws {
        let base = try TLSFixtures.holder().current
        let scope = TLSSessionScope()
        let handler = ScopedHandler(base.scoped(to: scope, requiresResumption: true))
        let strict = try server(handler.context, handler)
        let client = try TLSTestClient(port: strict.port)
        // TLS 1.3: the client may finish before the server checks; either way nothing is served.
        try? client.handshake()
        _ = client.write("ping\n")
        #expect(client.readAll().isEmpty)
        #expect(eventually { handler.ended.withLock { $0 } == CloseReason.tlsFailed.rawValue })
    }

    @Test(arguments: [false, true]) func anEndWithoutCloseNotify(required: Bool) throws {
        let base = try TLSFixtures.holder().current
        let handler = ScopedHandler(base.scoped(to: TLSSessionScope(), requiresCloseNotify: required))
        let server = try server(handler.context, handler)
        let client = try TLSTestClient(port: server.port)
        try client.handshake()
        #expect(client.write("ping\n"))
        #expect(client.read(atLeast: 5) == Array("ping\n".utf8))
        Glibc.shutdown(client.fd, Int32(SHUT_WR))
        #expect(eventually { handler.ended.withLock { $0 } != nil })
        #expect(handler.ended.withLock { $0 } == (required ? CloseReason.peerReset.rawValue : "end of stream"))
    }
}
