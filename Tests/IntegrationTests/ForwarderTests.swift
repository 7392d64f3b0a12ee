import DNSService
import Foundation
import ServerCore
import Synchronization
import Testing

/// The forwarder against a scripted upstream on a real UDP socket.
@Suite struct ForwarderTests {
    /// Answers every query late with 198.51.100.9, after a forged reply with the wrong ID
    /// (203.0.113.66) and one with the wrong question (203.0.113.77), each carrying its own
    /// address so that taking one shows; counts the queries; goes silent on request.
    final class ScriptedUpstream: DatagramHandler {
        static let real: RData = .a([198, 51, 100, 9])
        static let forged: [RData] = [.a([203, 0, 113, 66]), .a([203, 0, 113, 77])]

        let queries = Atomic<Int>(0)
        let silent = Atomic<Bool>(false)

        func datagram(_ bytes: UnsafeRawBufferPointer, from remote: SocketAddress, reply: DatagramReply) {
            queries.add(1, ordering: .relaxed)
            guard !silent.load(ordering: .relaxed), let query = try? DNSMessage.decode(Array(bytes)) else { return }
            var answer = query
            answer.isResponse = true
            answer.recursionAvailable = true
            let name = query.questions[0].name
            answer.answers = [ResourceRecord(name: name, type: .a, ttl: 5, data: ScriptedUpstream.real)]
            var wrongID = answer
            wrongID.id &+= 1
            wrongID.answers = [ResourceRecord(name: name, type: .a, ttl: 5, data: ScriptedUpstream.forged[0])]
            var wrongQuestion = answer
            wrongQuestion.questions = [.init(name: DNSName("evil.test.")!, type: .a)]
            wrongQuestion.answers = [ResourceRecord(name: name, type: .a, ttl: 5, data: ScriptedUpstream.forged[1])]
            reply.send(wrongID.encode())
            reply.send(wrongQuestion.encode())
            let late = answer.encode()
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { reply.send(late) }
        }
    }

    final class Clock: Sendable {
        let seconds = Atomic<UInt64>(100)
    }

    let upstream = ScriptedUpstream()
    let registry: ListenerRegistry
    let address: SocketAddress
    let clock = Clock()

    init() throws {
        registry = try ListenerRegistry(workers: 1)
        address = try registry.addUDP(SocketAddress(ip: IPAddress("127.0.0.1")!, port: 0), handler: upstream)
        registry.start()
    }

    func forwarder() -> Forwarder {
        let clock = clock
        return Forwarder(upstreams: [Upstream(address)], cache: UpstreamRecordCache { clock.seconds.load(ordering: .relaxed) }, deadline: 1)
    }

    func resolve(_ forwarder: Forwarder, _ name: String, times: Int = 1) -> [UpstreamRecordCache.Answer?] {
        let results = Mutex<[UpstreamRecordCache.Answer?]>([])
        let group = DispatchGroup()
        for _ in 0..<times {
            group.enter()
            DispatchQueue.global().async {
                forwarder.resolve(.init(name: DNSName(name)!, type: .a)) { answer in
                    results.withLock { $0.append(answer) }
                    group.leave()
                }
            }
        }
        group.wait()
        return results.withLock { $0 }
    }

    @Test func forgedRepliesAreIgnoredAndIdenticalQuestionsShareOneQuery() {
        let forwarder = forwarder()
        let answers = resolve(forwarder, "host.test.", times: 8)
        #expect(answers.count == 8)
        #expect(answers.allSatisfy { $0?.answer.map(\.data) == [ScriptedUpstream.real] }, "\(answers)")
        #expect(!answers.contains { $0?.answer.contains { ScriptedUpstream.forged.contains($0.data) } ?? false })
        #expect(upstream.queries.load(ordering: .relaxed) == 1)
        _ = resolve(forwarder, "HOST.test.")
        #expect(upstream.queries.load(ordering: .relaxed) == 1, "a cache hit, whatever the case")
        registry.shutdown(grace: 0) {}
    }

    @Test func staleAnswerWhenUpstreamFailsAfterExpiry() {
        let forwarder = forwarder()
        #expect(resolve(forwarder, "stale.test.").first??.answer.first?.ttl == 5)
        clock.seconds.add(60, ordering: .relaxed)
        upstream.silent.store(true, ordering: .relaxed)
        let started = Date()
        let stale = resolve(forwarder, "stale.test.").first ?? nil
        #expect(stale?.answer.first?.ttl == 30)
        #expect(Date().timeIntervalSince(started) < 3)
        #expect(resolve(forwarder, "never.test.").first! == nil)
        registry.shutdown(grace: 0) {}
    }
}
