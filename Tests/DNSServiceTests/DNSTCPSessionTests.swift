import Logging
import PropertyBased
import ServerCore
import Synchronization
import Testing
@testable import DNSService

/// DNS over TCP on the test double, as the server runs it: `SessionDriver<DNSTCPSession>`
/// with a zone, and an upstream that answers only when the test says (`FakeUpstream`).
@Suite struct DNSTCPSessionTests {
    typealias Lines = CapturedLines

    static let zones: ZoneStore = {
        let origin = DNSName("example.test.")!
        let big = (0..<8).map { "big TXT \"\(String(repeating: "x", count: 200))-\($0)\"" }.joined(separator: "\n")
        let records = try! ZoneFileParser.parse("$TTL 60\n@ SOA ns hm 1 1 1 1 30\nwww A 192.0.2.1\n" + big + "\n", origin: origin)
        return ZoneStore(zones: [try! Zone(origin: origin, records: records)])
    }()

    static let local = SocketAddress(ip: IPAddress("127.0.0.1")!, port: 53)
    static let remote = SocketAddress(ip: IPAddress("127.0.0.1")!, port: 40000)

    let upstream = FakeUpstream()
    let log = Lines()

    /// A fresh connection (and responder, so no response is reused from another test), opened.
    func connect() -> (TestConnection, SessionDriver<DNSTCPSession>) {
        let responder = DNSResponder(zones: DNSTCPSessionTests.zones, forwarder: upstream, allowRecursion: IPNetwork.localAndPrivate,
                                     logger: Logger(label: "test") { [log] _ in log })
        let client = ConnectionID(local: DNSTCPSessionTests.local, remote: DNSTCPSessionTests.remote)
        let driver = SessionDriver(DNSTCPSession(responder: responder, client: client, idleTimeout: 10),
                                   .init(service: "dns", logger: responder.logger, inputLimit: DNSTCPSession.inputLimit))
        let connection = TestConnection(handler: driver, local: DNSTCPSessionTests.local, remote: DNSTCPSessionTests.remote)
        connection.open()
        return (connection, driver)
    }

    /// Runs what completions queued, and what those queued, until nothing is left.
    static func settle(_ connection: TestConnection) {
        while connection.runPending() > 0 {}
    }

    static func framed(_ message: [UInt8]) -> [UInt8] { LengthPrefixFramer.frame(message)! }

    static func query(_ name: String, _ type: RRType, id: UInt16) -> [UInt8] {
        var message = DNSMessage()
        message.id = id
        message.recursionDesired = true
        message.questions = [.init(name: DNSName(name)!, type: type)]
        return message.encode()
    }

    /// The replies in `output`, which must hold whole frames only.
    static func replies(_ output: [UInt8]) -> [DNSMessage] {
        var framer = LengthPrefixFramer()
        framer.append(output)
        var replies: [DNSMessage] = []
        while case .message(let bytes) = framer.next() {
            guard let reply = try? DNSMessage.decode(bytes) else {
                Issue.record("a reply does not decode")
                continue
            }
            replies.append(reply)
        }
        #expect(framer.bufferedBytes == 0, "a partial frame was written")
        return replies
    }

    /// Queries of every kind, framed: answers, NXDOMAIN, a large answer, FORMERR for
    /// garbage and for the hostile 3 KB query, no reply at all for a response or an empty frame.
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

    /// What a peer reads for `chunks` sent in turn, then EOF (which must close the connection).
    func serve(_ chunks: [ArraySlice<UInt8>]) -> [UInt8] {
        let (connection, driver) = connect()
        for chunk in chunks { #expect(connection.receive(Array(chunk)), "the connection reads on") }
        #expect(driver.current.bufferedBytes == 0)
        connection.receiveEOF()
        #expect(!connection.isOpen, "closed once everything is answered")
        return connection.takeOutput()
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

    @Test func pipelinedQueriesAreAnsweredInOrderWithTheirIDs() throws {
        let (connection, _) = connect()
        #expect(connection.idleTimeout == 10)
        connection.receive(DNSTCPSessionTests.stream([0, 1, 2, 3, 4, 5, 6, 0]))
        let replies = DNSTCPSessionTests.replies(connection.takeOutput())
        #expect(replies.map(\.id) == [1, 2, 3, 4, 0xBE05, 8], "no reply to a response nor to an empty frame")
        #expect(replies.allSatisfy { $0.isResponse })
        #expect(replies[2].answers.count == 8 && !replies[2].truncated, "TCP's own limit")
        #expect(connection.isOpen && connection.idleTimeout == 10)
        let first = try #require(log.lines.withLock { $0.first })
        #expect(first.hasPrefix("dns 127.0.0.1:40000 -> 127.0.0.1:53 tcp \"www.example.test. A\" NOERROR 1 "), "\(first)")
        #expect(first.hasSuffix("ms"))
    }

    @Test func sameRepliesWholeByteByByteAndSplitAnywhere() async {
        let picks = Gen<UInt8>.value(in: 0...255).array(of: 1...24)
        let points = Gen<Int>.value(in: 0...100_000).array(of: 0...40)
        await propertyCheck(count: 40, input: picks, points) { picks, points in
            let bytes = DNSTCPSessionTests.stream(picks)
            let whole = serve([bytes[...]])
            #expect(!whole.isEmpty || picks.allSatisfy { [5, 6].contains($0 % 7) })
            #expect(serve(bytes.indices.map { bytes[$0...$0] }) == whole)
            #expect(serve(DNSTCPSessionTests.split(bytes, at: points)) == whole)
        }
    }

    /// A peer that pipelines and stops reading: no query is taken once output is full,
    /// reading stops with a bounded buffer, and every answer comes once the peer reads.
    @Test func aClientThatStopsReadingIsHeldToTheBoundsAndGetsEveryAnswerOnceItReads() {
        let (connection, driver) = connect()
        let count = 5000
        let bytes = Array((1...count).map { DNSTCPSessionTests.framed(DNSTCPSessionTests.query("big.example.test.", .txt, id: UInt16($0))) }.joined())
        connection.peerReading = false
        let read = 64 * 1024
        var offset = 0
        var mostBuffered = 0
        var mostUnread = 0
        while offset < bytes.count, connection.receive(Array(bytes[offset..<min(offset + read, bytes.count)])) {
            offset += read
            mostBuffered = max(mostBuffered, driver.current.bufferedBytes)
            mostUnread = max(mostUnread, connection.pendingOutputBytes)
        }
        #expect(offset < bytes.count, "reading stopped")
        #expect(mostBuffered <= DNSTCPSession.inputLimit + read)
        #expect(mostUnread >= connection.outputLimit && mostUnread < connection.outputLimit + LengthPrefixFramer.largestFramed)
        connection.peerReading = true
        while offset < bytes.count {
            #expect(connection.receive(Array(bytes[offset..<min(offset + read, bytes.count)])))
            offset += read
        }
        let replies = DNSTCPSessionTests.replies(connection.takeOutput())
        #expect(replies.map(\.id) == (1...count).map(UInt16.init), "every answer, once, in order")
        #expect(replies.allSatisfy { $0.answers.count == 8 })
    }

    /// Forwarded queries complete later, in any order; at most 16 are upstream at once, and
    /// the queries behind them (even ones our zones answer) wait for a place.
    @Test func atMostSixteenInFlightWithASlowUpstream() {
        let (connection, _) = connect()
        let forwarded = (1...20).map { DNSTCPSessionTests.framed(DNSTCPSessionTests.query("n\($0).example.com.", .a, id: UInt16($0))) }
        connection.receive(Array(forwarded.joined()) + DNSTCPSessionTests.framed(DNSTCPSessionTests.query("www.example.test.", .a, id: 100)))
        #expect(upstream.count == DNSTCPSession.maxInFlight)
        #expect(connection.takeOutput().isEmpty)

        upstream.answer(3)
        DNSTCPSessionTests.settle(connection)
        let third = DNSTCPSessionTests.replies(connection.takeOutput())
        #expect(third.map(\.id) == [3] && third.first?.answers.first?.data == FakeUpstream.address(3))
        #expect(upstream.count == 17, "the place is taken by the next query")

        for number in [1, 2, 4] { upstream.answer(number) }
        DNSTCPSessionTests.settle(connection)
        #expect(upstream.count == 20)
        #expect(DNSTCPSessionTests.replies(connection.takeOutput()).map(\.id) == [1, 2, 4], "the zone's query is still behind the bound")

        upstream.answer(20)
        DNSTCPSessionTests.settle(connection)
        #expect(DNSTCPSessionTests.replies(connection.takeOutput()).map(\.id) == [20, 100], "answered from the zone once its turn came")

        for number in (5...19).reversed() { upstream.answer(number) }
        DNSTCPSessionTests.settle(connection)
        let rest = DNSTCPSessionTests.replies(connection.takeOutput())
        #expect(rest.map(\.id) == (5...19).reversed().map(UInt16.init), "each as it is ready")
        #expect(rest.allSatisfy { $0.recursionAvailable && $0.answers.count == 1 })
        #expect(connection.isOpen)
    }

    @Test func endOfInputClosesOnceEveryAnswerIsOut() {
        let (connection, _) = connect()
        connection.receive(DNSTCPSessionTests.framed(DNSTCPSessionTests.query("n1.example.com.", .a, id: 1))
                           + DNSTCPSessionTests.framed(DNSTCPSessionTests.query("www.example.test.", .a, id: 2)) + [0, 40, 1])
        connection.receiveEOF()
        #expect(connection.isOpen, "an answer is still due")
        #expect(DNSTCPSessionTests.replies(connection.takeOutput()).map(\.id) == [2])
        upstream.answer(1)
        DNSTCPSessionTests.settle(connection)
        #expect(DNSTCPSessionTests.replies(connection.takeOutput()).map(\.id) == [1])
        #expect(!connection.isOpen, "the partial frame is never completed")
    }

    @Test func endOfInputAtTheBoundAnswersTheQueriesHeldBack() {
        let (connection, _) = connect()
        let forwarded = (1...17).map { DNSTCPSessionTests.framed(DNSTCPSessionTests.query("n\($0).example.com.", .a, id: UInt16($0))) }
        connection.receive(Array(forwarded.joined()))
        connection.receiveEOF()
        for number in 1...16 { upstream.answer(number) }
        DNSTCPSessionTests.settle(connection)
        #expect(connection.isOpen && upstream.count == 17)
        upstream.answer(17)
        DNSTCPSessionTests.settle(connection)
        #expect(DNSTCPSessionTests.replies(connection.takeOutput()).count == 17)
        #expect(!connection.isOpen)
    }

    @Test func aDrainAnswersWhatIsUpstreamThenCloses() {
        // The driver's contract: finish what is in flight, then close. Closing at once
        // threw away the answers upstream was about to give.
        let (connection, _) = connect()
        connection.receive(DNSTCPSessionTests.framed(DNSTCPSessionTests.query("n1.example.com.", .a, id: 1)))
        connection.drain()
        #expect(connection.isOpen && !connection.closedAfterFlush, "an answer is still due")
        connection.receive(DNSTCPSessionTests.framed(DNSTCPSessionTests.query("www.example.test.", .a, id: 2)))
        #expect(connection.takeOutput().isEmpty, "no query is taken while draining")
        upstream.answer(1)
        DNSTCPSessionTests.settle(connection)
        #expect(DNSTCPSessionTests.replies(connection.takeOutput()).map(\.id) == [1])
        #expect(!connection.isOpen)
    }

    @Test func aDrainClosesOnceFlushed() {
        let (connection, _) = connect()
        connection.peerReading = false
        connection.receive(DNSTCPSessionTests.framed(DNSTCPSessionTests.query("www.example.test.", .a, id: 7)))
        connection.drain()
        #expect(connection.isOpen && connection.closedAfterFlush, "what was answered goes out first")
        connection.peerReading = true
        #expect(DNSTCPSessionTests.replies(connection.takeOutput()).map(\.id) == [7])
        #expect(!connection.isOpen)
    }
}
