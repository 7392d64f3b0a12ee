import Logging
import PropertyBased
import ServerCore
import Synchronization
import Testing
@testable import DNSService

/// DNS over TCP without a socket: `DNSStream` driven as `DNSStreamHandler` drives it, by a
/// peer that sends a stream in chunks and reads the replies, or never reads them.
@Suite struct DNSStreamTests {
    static let responder: DNSResponder = {
        let origin = DNSName("example.test.")!
        let big = (0..<8).map { "big TXT \"\(String(repeating: "x", count: 200))-\($0)\"" }.joined(separator: "\n")
        let records = try! ZoneFileParser.parse("$TTL 60\n@ SOA ns hm 1 1 1 1 30\nwww A 192.0.2.1\n" + big + "\n", origin: origin)
        return DNSResponder(zones: ZoneStore(zones: [try! Zone(origin: origin, records: records)]), forwarder: nil,
                            allowRecursion: [], logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    }()

    static let client = ConnectionID(local: SocketAddress(ip: IPAddress("127.0.0.1")!, port: 53),
                                     remote: SocketAddress(ip: IPAddress("127.0.0.1")!, port: 40000))

    /// One TCP connection's server side: queries start as the stream allows and are
    /// answered in the order they started (as the hops back to the connection's queue run).
    struct Server {
        var stream = DNSStream()
        var output: [UInt8] = []
        /// Output the peer has not read: what `Connection.pendingOutputBytes` would say.
        var unread = 0
        var peerReads = true
        var mostBuffered = 0
        var mostUnread = 0

        mutating func receive(_ chunk: some Collection<UInt8>) {
            stream.received(chunk)
            mostBuffered = max(mostBuffered, stream.buffered)
            pump()
        }

        mutating func pump() {
            var inFlight: [[UInt8]] = []
            while true {
                while let query = stream.nextQuery(queuedOutput: unread) { inFlight.append(query) }
                guard !inFlight.isEmpty else { return }
                let reply = DNSStreamTests.answer(inFlight.removeFirst())
                if let framed = stream.answered(reply) {
                    output += framed
                    if !peerReads { unread += framed.count }
                    mostUnread = max(mostUnread, unread)
                }
            }
        }
    }

    static func answer(_ query: [UInt8]) -> [UInt8]? {
        let result = Mutex<[UInt8]??>(nil)
        responder.respond(to: query, from: client, over: .tcp) { reply in result.withLock { $0 = .some(reply) } }
        guard let reply = result.withLock({ $0 }) else {
            Issue.record("a zone answer must come at once")
            return nil
        }
        return reply
    }

    static func framed(_ message: [UInt8]) -> [UInt8] {
        [UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message
    }

    static func query(_ name: String, _ type: RRType, id: UInt16) -> [UInt8] {
        var message = DNSMessage()
        message.id = id
        message.questions = [.init(name: DNSName(name)!, type: type)]
        return message.encode()
    }

    /// Queries of every kind, framed: answers, NXDOMAIN, a large answer, FORMERR for
    /// garbage and for the hostile 23 KB query, no reply at all for a response or an empty frame.
    static func stream(_ picks: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        for (index, pick) in picks.enumerated() {
            let id = UInt16(index + 1)
            switch pick % 7 {
            case 0: bytes += framed(query("www.example.test.", .a, id: id))
            case 1: bytes += framed(query("nope.example.test.", .aaaa, id: id))
            case 2: bytes += framed(query("big.example.test.", .txt, id: id))
            case 3: bytes += framed([UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 0x0C, 0, 1, 0, 1])
            case 4: bytes += framed([0xBE, UInt8(truncatingIfNeeded: id)] + HostileQueries.questionsIntoLabels(size: 3000).dropFirst(2))
            case 5: bytes += framed([UInt8(id >> 8), UInt8(id & 0xFF), 0x80] + Array(query("www.example.test.", .a, id: id).dropFirst(3)))
            default: bytes += [0, 0]
            }
        }
        return bytes
    }

    static func serve(_ chunks: [ArraySlice<UInt8>]) -> [UInt8] {
        var server = Server()
        for chunk in chunks { server.receive(chunk) }
        #expect(server.stream.pending == 0 && server.stream.buffered == 0)
        return server.output
    }

    /// `bytes` cut at the given points (taken modulo its length, sorted).
    static func split(_ bytes: [UInt8], at points: [Int]) -> [ArraySlice<UInt8>] {
        var chunks: [ArraySlice<UInt8>] = []
        var start = 0
        for cut in Set(points.map { $0 % (bytes.count + 1) }).sorted() where cut > start {
            chunks.append(bytes[start..<cut])
            start = cut
        }
        chunks.append(bytes[start...])
        return chunks
    }

    @Test func sameRepliesWholeByteByByteAndSplitAnywhere() async {
        let picks = Gen<UInt8>.value(in: 0...255).array(of: 1...24)
        let points = Gen<Int>.value(in: 0...100_000).array(of: 0...40)
        await propertyCheck(count: 60, input: picks, points) { picks, points in
            let bytes = DNSStreamTests.stream(picks)
            let whole = DNSStreamTests.serve([bytes[...]])
            #expect(!whole.isEmpty || picks.allSatisfy { [5, 6].contains($0 % 7) })
            #expect(DNSStreamTests.serve(bytes.indices.map { bytes[$0...$0] }) == whole)
            #expect(DNSStreamTests.serve(DNSStreamTests.split(bytes, at: points)) == whole)
        }
    }

    @Test func repliesComeInOrderWithTheirIDs() throws {
        let bytes = DNSStreamTests.stream([0, 1, 2, 3, 4, 5, 6, 0])
        var output = DNSStreamTests.serve([bytes[...]])[...]
        var ids: [UInt16] = []
        while output.count >= 2 {
            let length = Int(output[output.startIndex]) << 8 | Int(output[output.startIndex + 1])
            let reply = try DNSMessage.decode(Array(output.dropFirst(2).prefix(length)))
            #expect(reply.isResponse)
            ids.append(reply.id)
            output = output.dropFirst(2 + length)
        }
        #expect(ids == [1, 2, 3, 4, 0xBE05, 8], "no reply to a response nor to an empty frame")
    }

    /// A peer that pipelines and never reads: the stream stops taking queries near the
    /// output budget, stops reading with a bounded buffer, and goes on once the peer reads.
    @Test func aPeerThatNeverReadsIsHeldToTheBounds() {
        let query = DNSStreamTests.framed(DNSStreamTests.query("big.example.test.", .txt, id: 9))
        let bytes = Array(Array(repeating: query, count: 5000).joined())
        var server = Server()
        server.peerReads = false
        let read = 64 * 1024
        var offset = 0
        while offset < bytes.count && server.stream.wantsInput {
            server.receive(bytes[offset..<min(offset + read, bytes.count)])
            offset += read
        }
        #expect(offset < bytes.count && server.stream.waitsForOutput, "reading stopped, held back by the output")
        #expect(server.mostBuffered < DNSStream.maxFramed + read)
        #expect(server.mostUnread < DNSStream.outputBudget + DNSStream.maxFramed)
        #expect(server.mostUnread > DNSStream.outputBudget - 2 * DNSStream.maxFramed, "the budget is used, not stopped far short")
        let answered = server.output.count
        server.unread = 0
        server.pump()
        #expect(server.output.count > answered, "once the peer has read, the waiting queries are answered")
    }

    @Test func reachesTheEndOfALongPipelineInOnePass() {
        // Taking each query by removing it from the front of the buffer was quadratic.
        let query = DNSStreamTests.framed(DNSStreamTests.query("www.example.test.", .a, id: 1))
        let bytes = Array(Array(repeating: query, count: 40_000).joined())
        var stream = DNSStream()
        stream.received(bytes)
        var taken = 0
        while stream.nextQuery(queuedOutput: 0) != nil {
            _ = stream.answered(nil)
            taken += 1
        }
        #expect(taken == 40_000 && stream.buffered == 0 && stream.wantsInput)
    }

    @Test func framingEdges() {
        var stream = DNSStream()
        stream.received([0x00])
        #expect(stream.nextQuery(queuedOutput: 0) == nil && stream.wantsInput)
        stream.received([0x02, 0xAA])
        #expect(stream.nextQuery(queuedOutput: 0) == nil)
        stream.received([0xBB, 0x00])
        #expect(stream.nextQuery(queuedOutput: 0) == [0xAA, 0xBB])
        #expect(stream.nextQuery(queuedOutput: 0) == nil && stream.buffered == 1)
        stream.receivedEOF()
        #expect(!stream.isFinished, "an answer is still due")
        #expect(stream.answered([UInt8](repeating: 1, count: 65_536)) == nil, "past 65535 octets: cannot be framed")
        #expect(stream.isFinished, "the peer is gone; a partial frame is never completed")
        var full = DNSStream()
        full.received(Array(Array(repeating: [0, 1, 0xFF], count: DNSStream.maxPending + 1).joined()))
        for _ in 0..<DNSStream.maxPending { #expect(full.nextQuery(queuedOutput: 0) == [0xFF]) }
        #expect(full.nextQuery(queuedOutput: 0) == nil && !full.wantsInput, "at most \(DNSStream.maxPending) in flight")
        #expect(!full.waitsForOutput, "held back by the answers in flight")
        #expect(full.answered([1, 2]) == [0, 2, 1, 2])
        #expect(full.nextQuery(queuedOutput: DNSStream.outputBudget) == nil && full.waitsForOutput, "no room for the output")
        #expect(full.nextQuery(queuedOutput: 0) == [0xFF])
    }
}
