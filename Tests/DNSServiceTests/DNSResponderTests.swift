import Foundation
import Logging
import ServerCore
import Synchronization
import Testing
@testable import DNSService

/// The core that UDP and TCP share, fed bytes and read back as bytes.
@Suite struct DNSResponderTests {
    final class Folder {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("zones-\(UUID().uuidString)").path
        init(_ files: [String: String]) throws {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            for (name, text) in files { try text.write(toFile: path + "/" + name, atomically: true, encoding: .utf8) }
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    let folder: Folder
    let responder: DNSResponder
    let client = ConnectionID(local: SocketAddress(ip: IPAddress("127.0.0.1")!, port: 53),
                              remote: SocketAddress(ip: IPAddress("127.0.0.1")!, port: 40000))

    init() throws {
        let big = (0..<8).map { "big TXT \"\(String(repeating: "x", count: 200))-\($0)\"" }.joined(separator: "\n")
        folder = try Folder(["example.test.zone": "$TTL 60\n@ SOA ns hm 1 1 1 1 30\nwww A 192.0.2.1\n" + big + "\n"])
        responder = DNSResponder(zones: try ZoneStore(folder: folder.path), forwarder: nil, allowRecursion: IPNetwork.localAndPrivate,
                                 logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    }

    func query(_ name: String, _ type: RRType, id: UInt16 = 42, edns: DNSMessage.EDNS? = nil, configure: (inout DNSMessage) -> Void = { _ in }) -> [UInt8] {
        var message = DNSMessage()
        message.id = id
        message.recursionDesired = true
        message.questions = [.init(name: DNSName(name)!, type: type)]
        message.edns = edns
        configure(&message)
        return message.encode()
    }

    func reply(to bytes: [UInt8], over transport: DNSResponder.Transport = .udp) -> [UInt8]? {
        let result = Mutex<[UInt8]??>(nil)
        responder.respond(to: bytes, from: client, over: transport) { reply in result.withLock { $0 = .some(reply?.bytes) } }
        return result.withLock { $0 }.flatMap { $0 }
    }

    func ask(_ bytes: [UInt8], over transport: DNSResponder.Transport = .udp) -> DNSMessage? {
        reply(to: bytes, over: transport).flatMap { try? DNSMessage.decode($0) }
    }

    @Test func authoritativeAnswerEchoesIDAndQuestion() {
        let reply = ask(query("WWW.example.test.", .a, id: 777))
        #expect(reply?.id == 777)
        #expect(reply?.isResponse == true && reply?.authoritative == true && reply?.recursionDesired == true)
        #expect(reply?.recursionAvailable == false)
        #expect(reply?.questions.first?.name.description == "WWW.example.test.")
        #expect(reply?.answers.first?.data == .a([192, 0, 2, 1]))
    }

    @Test func aRepeatedQueryIsAnsweredFromTheEncodedResponseCacheWithItsOwnID() throws {
        let first = ask(query("www.example.test.", .a, id: 1))
        let second = ask(query("www.example.test.", .a, id: 2))
        #expect(first?.id == 1 && second?.id == 2)
        #expect(second?.answers == first?.answers)
        // Over TCP the same question is its own entry (no UDP truncation carried over).
        let big = query("big.example.test.", .txt, id: 3)
        #expect(ask(big)?.truncated == true)
        #expect(ask(big, over: .tcp)?.truncated == false)
        #expect(ask(big)?.truncated == true)
        // A reload makes what was held stale.
        try "$TTL 60\n@ SOA ns hm 2 1 1 1 30\nwww A 192.0.2.2\n".write(toFile: folder.path + "/example.test.zone", atomically: true, encoding: .utf8)
        #expect(responder.zones.reload().isEmpty)
        #expect(ask(query("www.example.test.", .a, id: 4))?.answers.first?.data == .a([192, 0, 2, 2]))
    }

    @Test func aReloadThatFailsKeepsTheZoneItHad() throws {
        // Issue 11: `\#` with a length near Int.max overflowed while parsing, and a SIGHUP
        // with such a line killed the server; an unencodable TXT loaded and trapped on a query.
        let zone = folder.path + "/example.test.zone"
        let good = "$TTL 60\n@ SOA ns hm 1 1 1 1 30\nwww A 192.0.2.1\n"
        let lines = ["x TYPE65534 \\# 9223372036854775807 00", "t TXT " + Array(repeating: String(repeating: "x", count: 255), count: 300).joined(separator: " ")]
        for line in lines {
            try (good + line + "\n").write(toFile: zone, atomically: true, encoding: .utf8)
            let problems = responder.zones.reload()
            #expect(problems.count == 1 && problems.first?.hasPrefix(zone + ":4: expected ") == true, "\(problems)")
            #expect(problems.first?.hasSuffix("(keeping the previous version)") == true)
            #expect(ask(query("www.example.test.", .a))?.answers.first?.data == .a([192, 0, 2, 1]))
            #expect(ask(query("big.example.test.", .txt), over: .tcp)?.answers.count == 8, "the zone from before, whole")
        }
    }

    @Test func theEncodedResponseCacheKeepsToItsBudget() {
        let cache = EncodedResponseCache(budget: 100)
        let key = EncodedResponseCache.key([0, 1] + Array(repeating: 7, count: 20), tcp: false, recursionAllowed: true)
        let response = [UInt8](repeating: 9, count: 40)
        cache.store(key, response: response, summary: "a", zones: 0, expires: 10)
        #expect(cache.lookup(key, id: (0xAB, 0xCD), zones: 0, second: 9)?.bytes == [0xAB, 0xCD] + response.dropFirst(2))
        #expect(cache.lookup(key, id: (0, 0), zones: 0, second: 10) == nil)
        #expect(cache.lookup(key, id: (0, 0), zones: 1, second: 0) == nil)
        let other = EncodedResponseCache.key([0, 1] + Array(repeating: 8, count: 20), tcp: false, recursionAllowed: true)
        cache.store(other, response: response, summary: "b", zones: 0, expires: 10)
        #expect(cache.lookup(key, id: (0, 0), zones: 0, second: 0) == nil)
        #expect(cache.lookup(other, id: (0, 0), zones: 0, second: 0)?.summary == "b")
    }

    @Test func responsesGetNoReply() {
        let delivered = Mutex<[UInt8]??>(nil)
        responder.respond(to: query("www.example.test.", .a) { $0.isResponse = true }, from: client, over: .udp) { reply in
            delivered.withLock { $0 = .some(reply?.bytes) }
        }
        #expect(delivered.withLock { $0 } == .some(nil))
    }

    @Test func garbageGetsFormErrOrNothing() {
        #expect(ask([1, 2, 3]) == nil)
        var garbage: [UInt8] = [0xAB, 0xCD, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]
        garbage += [0xC0, 0x0C, 0, 1, 0, 1]
        let reply = ask(garbage)
        #expect(reply?.id == 0xABCD)
        #expect(reply?.rcode == RCode.formErr.rawValue)
        #expect(ask(query("www.example.test.", .a) { $0.questions.append($0.questions[0]) })?.rcode == RCode.formErr.rawValue)
        #expect(ask(query("www.example.test.", .a) { $0.questions = [] })?.rcode == RCode.formErr.rawValue)
    }

    @Test func theHostileQueryGetsASmallFormErrOverBothTransports() throws {
        // Issue 11: every question echoed made a reply past 65535 octets (TCP's length prefix
        // trapped; UDP sent nothing).
        let hostile = HostileQueries.questionsIntoLabels()
        for transport in [DNSResponder.Transport.udp, .tcp] {
            let bytes = try #require(reply(to: hostile, over: transport), "\(transport)")
            #expect(bytes.count <= 512, "\(transport): \(bytes.count) octets")
            let message = try DNSMessage.decode(bytes)
            #expect(message.id == 0xBEEF && message.rcode == RCode.formErr.rawValue && message.isResponse)
            #expect(message.questions == [try DNSMessage.decode(hostile).questions[0]], "the first question only")
        }
        #expect(ask(query("www.example.test.", .a))?.answers.count == 1, "and the next query is answered")
    }

    @Test func notTheShapeOfAQueryIsFormErrEchoingAtMostTheFirstQuestion() {
        let www = DNSMessage.Question(name: DNSName("www.example.test.")!, type: .a)
        let record = ResourceRecord(name: www.name, type: .a, ttl: 1, data: .a([1, 2, 3, 4]))
        let cases: [(String, (inout DNSMessage) -> Void, [DNSMessage.Question])] = [
            ("no question", { $0.questions = [] }, []),
            ("two questions", { $0.questions.append($0.questions[0]) }, [www]),
            ("an answer record", { $0.answers = [record] }, [www]),
            ("an authority record", { $0.authority = [record] }, [www]),
            ("three additional records", { $0.additional = [record, record, record] }, [www]),
        ]
        for (what, change, echoed) in cases {
            let reply = ask(query("www.example.test.", .a, configure: change))
            #expect(reply?.rcode == RCode.formErr.rawValue, "\(what)")
            #expect(reply?.questions == echoed, "\(what)")
        }
        // The first question unreadable: nothing echoed.
        var header: [UInt8] = [0, 7, 0x01, 0x00, 0, 2, 0, 0, 0, 0, 0, 0]
        header += [0xC0, 0x0C, 0, 1, 0, 1]
        let reply = ask(header)
        #expect(reply?.rcode == RCode.formErr.rawValue && reply?.questions == [])
        #expect(ask(query("www.example.test.", .a) { $0.additional = [record] })?.answers.count == 1, "an additional record is allowed")
    }

    @Test func aClientOutsideAllowRecursionIsRefusedEvenWithAnUpstream() throws {
        // Nothing listens on the upstream: a query sent there would give SERVFAIL, not REFUSED.
        let upstream = SocketAddress(ip: IPAddress("127.0.0.1")!, port: 9)
        let forwarder = Forwarder(upstreams: [Upstream(upstream)], cache: UpstreamRecordCache { 0 })
        let closed = DNSResponder(zones: responder.zones, forwarder: forwarder, allowRecursion: [IPNetwork("192.0.2.0/24")!],
                                  logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let result = Mutex<[UInt8]??>(nil)
        closed.respond(to: query("example.com.", .a), from: client, over: .udp) { reply in result.withLock { $0 = .some(reply?.bytes) } }
        let bytes = try #require(result.withLock { $0 } ?? nil, "refused at once, without asking upstream")
        let reply = try DNSMessage.decode(bytes)
        #expect(reply.rcode == RCode.refused.rawValue && !reply.recursionAvailable && reply.answers.isEmpty)
    }

    func forwarding(_ upstream: FakeUpstream) -> DNSResponder {
        DNSResponder(zones: responder.zones, forwarder: upstream, allowRecursion: IPNetwork.localAndPrivate,
                     logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    }

    /// The response of an outcome that must be at once.
    func atOnce(_ outcome: DNSResponder.Outcome) -> DNSMessage? {
        guard case .now(let answer?) = outcome else {
            Issue.record("not answered at once: \(outcome)")
            return nil
        }
        return try? DNSMessage.decode(answer.bytes)
    }

    @Test func notOursGoesUpstreamAndComesBackLaterWithRecursionAvailable() throws {
        let upstream = FakeUpstream()
        let forwarding = forwarding(upstream)
        guard case .upstream(let begin) = forwarding.answer(query("Example.COM.", .a, id: 5), from: client, over: .udp) else {
            Issue.record("a name not ours is asked upstream")
            return
        }
        #expect(upstream.count == 0, "asked only when begun")
        let reply = Mutex<[UInt8]?>(nil)
        begin { answer in reply.withLock { $0 = answer.bytes } }
        #expect(upstream.count == 1 && reply.withLock { $0 } == nil)
        upstream.answer(1)
        let message = try DNSMessage.decode(try #require(reply.withLock { $0 }))
        #expect(message.id == 5 && message.rcode == RCode.noError.rawValue && message.recursionAvailable && !message.authoritative)
        #expect(message.questions.first?.name.description == "Example.COM.", "the question as the client spelled it")
        #expect(message.answers.first?.data == FakeUpstream.address(1))

        let failed = Mutex<[UInt8]??>(nil)
        forwarding.respond(to: query("example.com.", .a, id: 6), from: client, over: .udp) { answer in failed.withLock { $0 = .some(answer?.bytes) } }
        upstream.fail(2)
        let servFail = try DNSMessage.decode(try #require(failed.withLock { $0 } ?? nil))
        #expect(servFail.id == 6 && servFail.rcode == RCode.servFail.rawValue && servFail.recursionAvailable)
        #expect(atOnce(forwarding.answer(query("www.example.test.", .a), from: client, over: .udp))?.authoritative == true,
                "ours is never asked upstream")
        #expect(upstream.count == 2)
    }

    @Test func anUpstreamAnswerHeldIsSentAtOnceAndItsResponseReusedForThatSecondOnly() {
        let upstream = FakeUpstream()
        let record = ResourceRecord(name: DNSName("example.com.")!, type: .a, ttl: 30, data: .a([203, 0, 113, 1]))
        upstream.hold("example.com.", .init(rcode: RCode.noError.rawValue, answer: [record], authority: [], additional: []))
        let forwarding = forwarding(upstream)
        let first = atOnce(forwarding.answer(query("example.com.", .a, id: 1), from: client, over: .udp))
        #expect(first?.answers == [record] && first?.recursionAvailable == true)
        #expect(upstream.cacheLookups == 1)
        #expect(atOnce(forwarding.answer(query("example.com.", .a, id: 2), from: client, over: .udp))?.id == 2)
        #expect(upstream.cacheLookups == 1, "the encoded response, reused within the second")
        upstream.second.add(1, ordering: .relaxed)
        #expect(atOnce(forwarding.answer(query("example.com.", .a, id: 3), from: client, over: .udp))?.answers == [record])
        #expect(upstream.cacheLookups == 2, "a second later the records are aged again")
        #expect(upstream.count == 0, "nothing was asked upstream")
    }

    @Test func onlyClientsInAllowRecursionMayRecurse() {
        let allowed = [IPNetwork("192.0.2.0/24")!]
        let inside = ConnectionID(local: client.local, remote: SocketAddress(ip: IPAddress("192.0.2.77")!, port: 5000))
        #expect(QueryPolicy.mayRecurse(inside, allowed: allowed))
        #expect(!QueryPolicy.mayRecurse(client, allowed: allowed))
        #expect(!QueryPolicy.mayRecurse(inside, allowed: []))
    }

    @Test func opcodeClassVersionAndTransfers() {
        #expect(ask(query("www.example.test.", .a) { $0.opcode = 2 })?.rcode == RCode.notImp.rawValue)
        #expect(ask(query("www.example.test.", .a) { $0.questions[0].qclass = DNSClass.chaos })?.rcode == RCode.refused.rawValue)
        let badVersion = ask(query("www.example.test.", .a, edns: .init(udpSize: 4096, version: 1)))
        #expect(badVersion?.rcode == RCode.badVers.rawValue)
        #expect(badVersion?.edns?.udpSize == 1232)
        #expect(ask(query("example.test.", .axfr))?.rcode == RCode.refused.rawValue)
    }

    /// QCLASS ANY: the IN data, never authoritative (RFC 1034 3.7.1), as NSD answers.
    @Test func classAnyIsAnsweredFromINWithoutAA() {
        let reply = ask(query("www.example.test.", .a) { $0.questions[0].qclass = DNSClass.any })
        #expect(reply?.rcode == RCode.noError.rawValue)
        #expect(reply?.authoritative == false)
        #expect(reply?.answers.first?.data == .a([192, 0, 2, 1]))
        #expect(ask(query("www.example.test.", .a))?.authoritative == true)
    }

    /// Issue 18: a name off the wire is escaped in the access line as every service's are
    /// (quotes, backslashes, control and non-ASCII bytes as `\xHH`), a dot or blank inside a
    /// label too, so it can neither close the quoted field, split it, nor end the line.
    @Test func accessLinesEscapeTheNameAsEveryServiceDoes() {
        let logged = DNSResponder(zones: ZoneStore(zones: []), forwarder: nil, allowRecursion: [], logger: Logger(label: "test") { _ in CapturedLines() })
        let hostile = DNSName(labels: [Array("a\" NOERROR 9\n".utf8), [0x5C, 0x2E, 0x00, 0xC3, 0xA9], Array("test".utf8)])
        var message = DNSMessage()
        message.questions = [.init(name: hostile, type: .a)]
        let summary = summary(of: logged.answer(message.encode(), from: client, over: .udp))
        #expect(summary == #""a\x22\x20NOERROR\x209\x0A.\x5C\x2E\x00\xC3\xA9.test. A" REFUSED 0"#)
        #expect(DNSResponder.logText(DNSName("www.Example.test.")!) == "www.Example.test.")
        #expect(DNSResponder.logText(.root) == ".")
    }

    @Test func notOursWithoutUpstreamIsRefused() {
        let reply = ask(query("example.com.", .a))
        #expect(reply?.rcode == RCode.refused.rawValue)
        #expect(reply?.answers == [])
    }

    @Test func udpTruncatesToTheClientsBufferTCPDoesNot() {
        let plain = ask(query("big.example.test.", .txt))
        #expect(plain?.truncated == true && plain?.answers == [])
        let edns = ask(query("big.example.test.", .txt, edns: .init(udpSize: 4096)))
        #expect(edns?.truncated == true)
        #expect(edns?.edns?.udpSize == 1232)
        let tcp = ask(query("big.example.test.", .txt), over: .tcp)
        #expect(tcp?.truncated == false && tcp?.answers.count == 8)
        let small = ask(query("www.example.test.", .a, edns: .init(udpSize: 100)))
        #expect(small?.truncated == false && small?.answers.count == 1)
    }
}
