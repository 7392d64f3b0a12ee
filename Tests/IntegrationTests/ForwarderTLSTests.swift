import DNSService
import Foundation
import ServerCore
import Synchronization
import Testing

/// The forwarder against a scripted DNS-over-TLS upstream in this process: one kept
/// connection, a connection that closes under a query (asked again on a new one, which
/// resumes the TLS session), an upstream that does not verify (the next one answers).
@Suite struct ForwarderTLSTests {
    /// Answers every query with 198.51.100.9, except that the first connection is closed
    /// on its `dropAfter`th query unanswered; records what each connection saw.
    final class ScriptedUpstream: @unchecked Sendable {
        let connections = Mutex<[(resumed: Bool, queries: Int)]>([])
        let dropAfter: Int

        init(dropAfter: Int) { self.dropAfter = dropAfter }

        final class Handler: ConnectionHandler, @unchecked Sendable {
            let upstream: ScriptedUpstream
            var framer = LengthPrefixFramer()
            var index = -1

            init(_ upstream: ScriptedUpstream) { self.upstream = upstream }

            func connection(_ connection: any ConnectionContext, received bytes: UnsafeRawBufferPointer) {
                if index < 0 {
                    index = upstream.connections.withLock { all in
                        all.append((connection.tls?.resumed ?? false, 0))
                        return all.count - 1
                    }
                }
                framer.append(bytes)
                while case .message(let bytes) = framer.next() {
                    let count = upstream.connections.withLock { all in
                        all[index].queries += 1
                        return all[index].queries
                    }
                    if index == 0 && count == upstream.dropAfter { return connection.close() }
                    guard var answer = try? DNSMessage.decode(bytes), let question = answer.questions.first else { continue }
                    answer.isResponse = true
                    answer.answers = [ResourceRecord(name: question.name, type: .a, ttl: 60, data: .a([198, 51, 100, 9]))]
                    connection.write(LengthPrefixFramer.frame(answer.encode()) ?? [])
                }
            }
        }
    }

    let registry: ListenerRegistry
    let folder: TemporaryFolder
    let context: TLSClientContext
    let holder: TLSContextHolder

    init() throws {
        registry = try ListenerRegistry(workers: 1)
        registry.start()
        folder = try TemporaryFolder("appserver-dot-upstream")
        let (pem, key) = try TLSSelfSigned.make(names: ["upstream.test"], addresses: [])
        try folder.write("ca.pem", pem)
        context = try TLSClientContext(caFile: folder.path + "/ca.pem", alpn: ["dot"])
        holder = try TLSContextHolder(certificates: [try TLSCertificate(certificatePEM: pem, keyPEM: key)],
                                      ticketKeys: try TLSTicketKeys(), configuration: .init(alpn: ["dot"]))
    }

    /// A listener opened on the running registry (`addTCP` is for before `start`), the test's to stop.
    func serve(_ upstream: ScriptedUpstream) throws -> ListenerHandle {
        try registry.listen(SocketAddress(ip: IPAddress("127.0.0.1")!, port: 0),
                            service: TCPService(tls: holder) { _ in ScriptedUpstream.Handler(upstream) })
    }

    func resolve(_ forwarder: Forwarder, _ name: String) -> UpstreamRecordCache.Answer? {
        let result = Mutex<UpstreamRecordCache.Answer??>(nil)
        let done = DispatchSemaphore(value: 0)
        forwarder.resolve(.init(name: DNSName(name)!, type: .a)) { answer in
            result.withLock { $0 = answer }
            done.signal()
        }
        done.wait()
        return result.withLock { $0 } ?? nil
    }

    func forwarder(_ upstreams: [Upstream]) -> Forwarder {
        Forwarder(upstreams: upstreams, cache: UpstreamRecordCache { 0 }, deadline: 3,
                  tls: Forwarder.TLSSetup(registry: registry, context: context))
    }

    @Test func queriesShareOneConnectionAndOneCutShortIsAskedAgainOnAResumedOne() throws {
        let upstream = ScriptedUpstream(dropAfter: 3)
        let listener = try serve(upstream)
        defer { listener.stop() }
        let forwarder = forwarder([Upstream(listener.address, tlsName: "upstream.test")])
        for name in ["a.test.", "b.test.", "c.test.", "d.test."] {
            #expect(resolve(forwarder, name)?.answer.first?.data == .a([198, 51, 100, 9]), "\(name)")
        }
        let seen = upstream.connections.withLock { $0 }
        #expect(seen.count == 2, "one connection until it was closed under the third query: \(seen)")
        #expect(seen.first?.queries == 3 && seen.last?.queries == 2, "\(seen)")
        #expect(seen.last?.resumed == true, "the second connection resumed the first's session")
        registry.shutdown(grace: 0) {}
    }

    @Test func anUpstreamThatDoesNotVerifyIsPassedOverAtOnce() throws {
        let upstream = ScriptedUpstream(dropAfter: 0)
        let listener = try serve(upstream)
        defer { listener.stop() }
        let forwarder = forwarder([Upstream(listener.address, tlsName: "impostor.test"), Upstream(listener.address, tlsName: "upstream.test")])
        let started = Date()
        #expect(resolve(forwarder, "a.test.")?.answer.first?.data == .a([198, 51, 100, 9]))
        #expect(Date().timeIntervalSince(started) < 1, "a failed handshake does not wait for the deadline")
        #expect(upstream.connections.withLock { $0 }.count == 1, "the impostor's handshake never reached a query")
        registry.shutdown(grace: 0) {}
    }
}
