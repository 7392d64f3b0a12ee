import ServerCore
import Testing
@testable import DNSService

/// The secondary's side of a transfer on bytes: our own primary's messages (signed or not,
/// one or many) make the zone again; a hostile primary's are refused with their reason.
@Suite struct TransferClientTests {
    static let origin = DNSName("example.test.")!
    static let key = TSIGKey(name: DNSName("xfr.test.")!, algorithm: .sha256, secret: Array("a secret of thirty-two octets!!!".utf8))
    static let now: UInt64 = 1_700_000_000

    static func zone(serial: UInt32 = 5, hosts: Int = 3) throws -> Zone {
        try ZoneTransferTests.zone("$TTL 60\n@ SOA ns hm \(serial) 1 1 1 30\n@ NS ns\nns A 192.0.2.53\n"
            + (0..<hosts).map { "h\($0) A 192.0.2.1" }.joined(separator: "\n") + "\n")
    }

    /// The primary's messages for the client's request, as `DNSResponder` would send them.
    static func serve(_ zone: Zone, to client: TransferClient, key: TSIGKey? = nil) throws -> [[UInt8]] {
        let query = try DNSMessage.decode(client.request)
        var signer: TSIGSigner?
        if let key {
            guard case .valid(_, let mac, _) = TSIG.verify(client.request, keys: [key.name: key], now: now) else {
                Issue.record("the client's request did not verify")
                return []
            }
            signer = TSIGSigner(key: key, requestMAC: mac, time: now)
        }
        var transfer = ZoneTransfer(zone: zone, id: query.id, question: query.questions.first, signer: signer)
        var messages: [[UInt8]] = []
        while let message = transfer.next() { messages.append(message) }
        return messages
    }

    static func run(_ client: inout TransferClient, _ messages: [[UInt8]]) -> TransferClient.Step {
        for message in messages {
            let step = client.receive(message, now: now)
            if case .needMore = step { continue }
            return step
        }
        return .needMore
    }

    static func failure(_ step: TransferClient.Step) -> TransferClient.Failure? {
        if case .failed(let failure) = step { return failure }
        return nil
    }

    @Test(arguments: [3, 3000]) func ourPrimarysTransferMakesTheSameZone(hosts: Int) throws {
        let zone = try TransferClientTests.zone(hosts: hosts)
        var client = TransferClient(origin: TransferClientTests.origin, serial: nil, key: nil, id: 7, now: TransferClientTests.now)
        let messages = try TransferClientTests.serve(zone, to: client)
        #expect(hosts < 1000 || messages.count > 1)
        guard case .done(.zone(let copy)) = TransferClientTests.run(&client, messages) else {
            Issue.record("the transfer did not complete")
            return
        }
        #expect(copy.nodes == zone.nodes)
        #expect(copy.soa == zone.soa)
    }

    @Test func aSignedTransferInSeveralMessagesVerifiesAndATamperedOneDoesNot() throws {
        let zone = try TransferClientTests.zone(hosts: 3000)
        var client = TransferClient(origin: TransferClientTests.origin, serial: nil, key: TransferClientTests.key, id: 9, now: TransferClientTests.now)
        let messages = try TransferClientTests.serve(zone, to: client, key: TransferClientTests.key)
        #expect(messages.count > 1)
        var tampered = client
        guard case .done(.zone(let copy)) = TransferClientTests.run(&client, messages) else {
            Issue.record("the signed transfer did not complete")
            return
        }
        #expect(copy.nodes == zone.nodes)
        var changed = messages
        changed[1][changed[1].count / 2] ^= 1
        #expect(TransferClientTests.failure(TransferClientTests.run(&tampered, changed)).map { "\($0)" }?.contains("TSIG") == true)
        var unsigned = TransferClient(origin: TransferClientTests.origin, serial: nil, key: TransferClientTests.key, id: 9, now: TransferClientTests.now)
        #expect(TransferClientTests.failure(TransferClientTests.run(&unsigned, try TransferClientTests.serve(zone, to: unsigned)))
            == .tsig("not signed"))
    }

    @Test func ixfrAsksWithOurSerialAndTheSingleSOAMeansUpToDate() throws {
        let zone = try TransferClientTests.zone(serial: 5)
        var client = TransferClient(origin: TransferClientTests.origin, serial: 5, key: nil, id: 3, now: TransferClientTests.now)
        let query = try DNSMessage.decode(client.request)
        #expect(query.questions.first?.type == .ixfr)
        #expect(DNSResponder.ixfrSerial(query) == 5)
        var single = DNSMessage()
        single.id = 3
        single.isResponse = true
        single.questions = query.questions
        single.answers = [zone.soa]
        guard case .done(.upToDate(serial: 5)) = client.receive(single.encode(), now: TransferClientTests.now) else {
            Issue.record("the single SOA is not up to date")
            return
        }
        var older = TransferClient(origin: TransferClientTests.origin, serial: 4, key: nil, id: 3, now: TransferClientTests.now)
        guard case .done(.zone) = TransferClientTests.run(&older, try TransferClientTests.serve(zone, to: older)) else {
            Issue.record("the AXFR form did not complete")
            return
        }
    }

    /// A reply of `records` in one message, to a client's query id 1.
    static func reply(_ records: [ResourceRecord], rcode: RCode = .noError) -> [UInt8] {
        var message = DNSMessage()
        message.id = 1
        message.isResponse = true
        message.rcode = rcode.rawValue
        message.questions = [.init(name: origin, type: .axfr)]
        message.answers = records
        return message.encode()
    }

    @Test func hostilePrimariesAreRefusedWithTheirReason() throws {
        let zone = try TransferClientTests.zone(serial: 5)
        let body = zone.nodes.values.flatMap { $0.values.flatMap { $0 } }.filter { $0.type != .soa }
        let outside = ResourceRecord(name: DNSName("evil.example.")!, type: .a, ttl: 60, data: .a([192, 0, 2, 66]))
        var lowerSOA = zone.soa
        if case .soa(var soa) = lowerSOA.data { soa.serial = 3; lowerSOA.data = .soa(soa) }
        func run(_ messages: [[UInt8]], serial: UInt32? = nil) -> TransferClient.Step {
            var client = TransferClient(origin: TransferClientTests.origin, serial: serial, ixfr: false, key: nil, id: 1, now: TransferClientTests.now)
            return TransferClientTests.run(&client, messages)
        }
        // No closing SOA: the client waits for more, and the transport's end says why.
        guard case .needMore = run([TransferClientTests.reply([zone.soa] + body)]) else {
            Issue.record("a transfer without its closing SOA ended")
            return
        }
        #expect(TransferClientTests.failure(run([TransferClientTests.reply([zone.soa, outside] + body + [zone.soa])])) == .outsideZone(outside.name))
        #expect(TransferClientTests.failure(run([TransferClientTests.reply([lowerSOA] + body + [lowerSOA])], serial: 5)) == .lowerSerial(ours: 5, theirs: 3))
        #expect(TransferClientTests.failure(run([TransferClientTests.reply([zone.soa], rcode: .refused)])) == .rcode(RCode.refused.rawValue))
        #expect(TransferClientTests.failure(run([TransferClientTests.reply(body)])) == .malformed("the first record is not the zone's SOA"))
        #expect(TransferClientTests.failure(run([TransferClientTests.reply([zone.soa] + body + [zone.soa, body[0]])])) == .malformed("records after the closing SOA"))
        #expect(TransferClientTests.failure(run([TransferClientTests.reply([zone.soa, lowerSOA] + body)])) == .incremental)
        #expect(TransferClientTests.failure(run([[1, 2, 3]])).map { if case .malformed = $0 { true } else { false } } == true)
    }

    @Test func aTTLWithItsTopBitSetIsTakenAsZeroSoTheCopyReadsBack() throws {
        let zone = try TransferClientTests.zone()
        let huge = ResourceRecord(name: DNSName("big.example.test.")!, type: .a, ttl: 2_214_596_112, data: .a([192, 0, 2, 80]))
        var client = TransferClient(origin: TransferClientTests.origin, serial: nil, key: nil, id: 1, now: TransferClientTests.now)
        guard case .done(.zone(let copy)) = client.receive(TransferClientTests.reply([zone.soa, huge, zone.soa]), now: TransferClientTests.now) else {
            Issue.record("the transfer did not complete")
            return
        }
        #expect(copy.rrsets(at: huge.name)?[.a]?.first?.ttl == 0)
        let text = String(decoding: copy.masterFile(comment: "test"), as: UTF8.self)
        #expect(try Zone(origin: copy.origin, records: try ZoneFileParser.parse(text, origin: .root)).nodes == copy.nodes)
    }

    /// Found by fuzz/run dns-secondary (regression meta-type-record): a record of a query-only
    /// type (AXFR, 252) was kept, and the kept copy did not read back (no zone file holds one).
    @Test(arguments: [RRType.axfr, .ixfr, .any, .opt]) func aRecordOfAQueryOnlyTypeFailsTheTransfer(type: RRType) throws {
        let zone = try TransferClientTests.zone()
        let meta = ResourceRecord(name: DNSName("mail1.example.test.")!, type: type, ttl: 300, data: .unknown([192, 0, 2, 26]))
        var client = TransferClient(origin: TransferClientTests.origin, serial: nil, key: nil, id: 1, now: TransferClientTests.now)
        let step = client.receive(TransferClientTests.reply([zone.soa, meta, zone.soa]), now: TransferClientTests.now)
        #expect(TransferClientTests.failure(step) == .malformed("a record of type \(type)"))
    }

    @Test func theStoredCopyReadsBackAsTheSameZone() throws {
        let zone = try ZoneTransferTests.zone("$TTL 60\n@ SOA ns hm 5 1 1 1 30\n@ NS ns\nns A 192.0.2.53\n"
            + "t TXT \"a b\" \"q\\\"\"\nw\\.x AAAA 2001:db8::1\n@ MX 10 mail\n@ TYPE65000 \\# 0\n")
        let text = String(decoding: zone.masterFile(comment: "test"), as: UTF8.self)
        let again = try Zone(origin: zone.origin, records: try ZoneFileParser.parse(text, origin: .root))
        #expect(again.nodes == zone.nodes)
    }
}
