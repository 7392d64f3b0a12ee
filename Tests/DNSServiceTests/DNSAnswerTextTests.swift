import CoreMetrics
import Logging
import ServerCore
import Testing
@testable import DNSService

/// The summary of an outcome that must be answered at once.
func summary(of outcome: DNSResponder.Outcome) -> String? {
    guard case .now(let answer?) = outcome else {
        Issue.record("not answered at once: \(outcome)")
        return nil
    }
    return answer.summary
}

/// What the responder says of each answer for its access line (the transports time and
/// write the line): `"name TYPE" RCODE [TC] count`, built only when someone reads it.
@Suite struct DNSAnswerTextTests {
    static let zones: ZoneStore = {
        let origin = DNSName("example.test.")!
        let big = (0..<8).map { "big TXT \"\(String(repeating: "x", count: 200))-\($0)\"" }.joined(separator: "\n")
        let records = try! ZoneFileParser.parse("$TTL 60\n@ SOA ns hm 1 1 1 1 30\nwww A 192.0.2.1\n" + big + "\n", origin: origin)
        return ZoneStore(zones: [try! Zone(origin: origin, records: records)])
    }()

    let client = ConnectionID(local: SocketAddress(ip: IPAddress("127.0.0.1")!, port: 53),
                              remote: SocketAddress(ip: IPAddress("127.0.0.1")!, port: 40000))

    func responder(level: Logger.Level = .info, metrics: DNSMetrics? = nil) -> DNSResponder {
        let lines = CapturedLines()
        lines.logLevel = level
        return DNSResponder(zones: DNSAnswerTextTests.zones, forwarder: nil, allowRecursion: [], logger: Logger(label: "test") { _ in lines },
                            metrics: metrics)
    }

    func query(_ name: String, _ type: RRType, id: UInt16 = 1) -> [UInt8] {
        var message = DNSMessage()
        message.id = id
        message.questions = [.init(name: DNSName(name)!, type: type)]
        return message.encode()
    }

    @Test func summariesOnFixtures() {
        let responder = responder()
        #expect(summary(of: responder.answer(query("www.example.test.", .a), from: client, over: .udp)) == #""www.example.test. A" NOERROR 1"#)
        #expect(summary(of: responder.answer(query("nope.example.test.", .a), from: client, over: .udp)) == #""nope.example.test. A" NXDOMAIN 0"#)
        #expect(summary(of: responder.answer(query("big.example.test.", .txt), from: client, over: .udp)) == #""big.example.test. TXT" NOERROR TC 8"#, "the answers the response had before it was cut")
        #expect(summary(of: responder.answer(query("big.example.test.", .txt), from: client, over: .tcp)) == #""big.example.test. TXT" NOERROR 8"#)
        #expect(summary(of: responder.answer(query("example.com.", .a), from: client, over: .udp)) == #""example.com. A" REFUSED 0"#)
    }

    @Test func aReusedResponseSaysTheSameAndTheTransportAddsItsWordAndSize() throws {
        let responder = responder()
        let first = responder.answer(query("www.example.test.", .a, id: 1), from: client, over: .tcp)
        let again = responder.answer(query("www.example.test.", .a, id: 2), from: client, over: .tcp)
        guard case .now(let answer?) = again else { throw TestFailure.notAtOnce }
        #expect(summary(of: first) == answer.summary)
        #expect(answer.access(over: .tcp) == #"tcp "www.example.test. A" NOERROR 1 "# + "\(answer.bytes.count)")
    }

    @Test func noTextWhenNobodyReadsIt() throws {
        let quiet = responder(level: .notice)
        for id: UInt16 in [1, 2] {
            guard case .now(let answer?) = quiet.answer(query("www.example.test.", .a, id: id), from: client, over: .udp) else {
                throw TestFailure.notAtOnce
            }
            #expect(answer.summary == nil && answer.access(over: .udp) == nil, "query \(id)")
        }
        #expect(!quiet.datagramLog.isTimed)
        let counted = responder(level: .notice, metrics: DNSMetrics(factory: NOOPMetricsHandler.instance))
        #expect(summary(of: counted.answer(query("www.example.test.", .a), from: client, over: .udp)) != nil,
                "the console's recent datagrams show it")
        #expect(counted.datagramLog.isTimed)
    }

    enum TestFailure: Error { case notAtOnce }
}
