import Logging
import Synchronization
import Testing
@testable import ServerCore

/// A datagram's access line and recent entry, timed with an injected clock from the read
/// of its batch to the reply, later ones (an upstream's) too.
@Suite struct DatagramLogTests {
    final class Clock: Sendable {
        let now = Mutex<UInt64>(0)
        func read() -> UInt64 { now.withLock { $0 } }
    }

    static let local = SocketAddress(ip: IPAddress("192.0.2.1")!, port: 53)
    static let remote = SocketAddress(ip: IPAddress("203.0.113.9")!, port: 5353)

    func reply(_ log: DatagramLog, batch: ReplyBatch, generation: UInt64, received: UInt64) -> DatagramReply {
        DatagramReply(fd: -1, local: DatagramLogTests.local, remote: DatagramLogTests.remote, source: nil, batch: batch,
                      generation: generation, log: log, received: received)
    }

    @Test func theLineTheRecentEntryAndTheDuration() {
        let lines = CapturedLines(), clock = Clock(), recent = RecentExchanges()
        let log = DatagramLog(service: "dns", logger: Logger(label: "test") { _ in lines }, recent: recent, clock: { clock.read() })
        #expect(log.isTimed)
        let batch = ReplyBatch()
        let generation = batch.open()
        clock.now.withLock { $0 = 5_000_000 }
        let reply = reply(log, batch: batch, generation: generation, received: log.clock())
        clock.now.withLock { $0 = 5_350_000 }
        reply.send([1, 2, 3], summary: #""a. A" NOERROR 1"#)
        var replies: [ReplyBatch.Reply] = []
        batch.close(into: &replies)
        #expect(replies.map(\.bytes) == [[1, 2, 3]])
        // Later, as an upstream's answer comes: alone, timed from the same read.
        clock.now.withLock { $0 = 1_205_000_000 }
        reply.send([4, 5], summary: #""b. A" SERVFAIL 0"#)
        reply.send([6])
        #expect(lines.all == [#"dns 203.0.113.9:5353 -> 192.0.2.1:53 udp "a. A" NOERROR 1 3 0.3ms"#,
                              #"dns 203.0.113.9:5353 -> 192.0.2.1:53 udp "b. A" SERVFAIL 0 2 1200.0ms"#])
        #expect(recent.entries.map(\.summary) == [#""a. A" NOERROR 1"#, #""b. A" SERVFAIL 0"#])
        #expect(recent.entries.map(\.bytes) == [3, 2] && recent.entries.first?.client.remote == DatagramLogTests.remote)
    }

    @Test func untimedWhenNothingWantsIt() {
        let lines = CapturedLines()
        lines.logLevel = .notice
        let log = DatagramLog(service: "dns", logger: Logger(label: "test") { _ in lines }, clock: { Issue.record("clock read"); return 0 })
        #expect(!log.isTimed)
        let batch = ReplyBatch()
        reply(log, batch: batch, generation: batch.open(), received: 0).send([1], summary: "x")
        var replies: [ReplyBatch.Reply] = []
        batch.close(into: &replies)
        #expect(lines.all.isEmpty && replies.count == 1)
    }

    @Test func recentExchangesKeepTheNewestInOrderPastTheirCapacity() {
        let recent = RecentExchanges(capacity: 3)
        let id = ConnectionID(local: DatagramLogTests.local, remote: DatagramLogTests.remote)
        for n in 1...7 {
            recent.add(.init(time: n, client: id, summary: "\(n)", bytes: 0))
            #expect(recent.entries.map(\.time) == Array(max(1, n - 2)...n))
        }
    }
}
