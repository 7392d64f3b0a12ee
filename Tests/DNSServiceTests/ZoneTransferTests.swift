import PropertyBased
import ServerCore
import Testing
@testable import DNSService

/// AXFR's messages on bytes: each parses, fits, carries the query's ID and AA, the first
/// the question; the records between the two SOAs are the zone's, each once.
@Suite struct ZoneTransferTests {
    static let origin = DNSName("example.test.")!

    static func zone(_ text: String) throws -> Zone {
        try Zone(origin: origin, records: try ZoneFileParser.parse(text, origin: origin))
    }

    /// Every record the zone holds, as a multiset of their wire forms.
    static func held(_ zone: Zone) -> [ResourceRecord] {
        zone.nodes.values.flatMap { $0.values.flatMap { $0 } }
    }

    /// The messages of a transfer, decoded, each checked on its own.
    static func messages(_ zone: Zone, id: UInt16 = 0xBEEF) throws -> [DNSMessage] {
        var transfer = ZoneTransfer(zone: zone, id: id, question: .init(name: zone.origin, type: .axfr), signer: nil)
        var messages: [DNSMessage] = []
        while let bytes = transfer.next() {
            let message = try DNSMessage.decode(bytes)
            #expect(bytes.count <= ZoneTransfer.messageLimit || message.answers.count == 1, "\(bytes.count) octets")
            #expect(message.id == id && message.isResponse && message.authoritative && message.rcode == 0)
            #expect(message.questions.count == (messages.isEmpty ? 1 : 0))
            #expect(message.authority.isEmpty && message.additional.isEmpty)
            messages.append(message)
        }
        #expect(transfer.messages == messages.count)
        return messages
    }

    static func check(_ zone: Zone) throws {
        let records = try messages(zone).flatMap(\.answers)
        #expect(records.first == zone.soa)
        #expect(records.last == zone.soa)
        let body = records.dropFirst().dropLast()
        #expect(!body.contains { $0.type == .soa })
        #expect(Set(body) == Set(held(zone).filter { $0.type != .soa }))
        #expect(body.count == held(zone).count - 1)
    }

    @Test func aSmallZoneIsOneMessageWithGlueAndTheSOAAtBothEnds() throws {
        let zone = try ZoneTransferTests.zone("$TTL 60\n@ SOA ns hm 5 1 1 1 30\n@ NS ns\nns A 192.0.2.1\nsub NS ns.sub\nns.sub A 192.0.2.53\n")
        let messages = try ZoneTransferTests.messages(zone)
        #expect(messages.count == 1)
        #expect(messages.first?.questions.first?.type == .axfr)
        #expect(messages.first?.answers.count == 6)
        try ZoneTransferTests.check(zone)
    }

    @Test func namesAreCompressed() throws {
        let zone = try ZoneTransferTests.zone("$TTL 60\n@ SOA ns hm 5 1 1 1 30\n" + (0..<50).map { "h\($0) A 192.0.2.1" }.joined(separator: "\n") + "\n")
        var transfer = ZoneTransfer(zone: zone, id: 1, question: .init(name: zone.origin, type: .axfr), signer: nil)
        let first = transfer.next()
        let bytes = try #require(first)
        // Uncompressed, each A record would repeat "example.test." (14 octets) and more.
        #expect(bytes.count < 50 * (4 + 14 + 14))
        #expect(transfer.next() == nil)
    }

    @Test func aLargeZoneGoesInMessagesOfAtMost16KiBAndARecordLargerThanThatAlone() throws {
        let big = (0..<200).map { "t TXT \"" + String(repeating: "y", count: 250) + "\" \"\($0)\"" }.joined(separator: "\n")
        let hosts = (0..<2000).map { "host\($0) A 198.51.100.\($0 % 250 + 1)" }.joined(separator: "\n")
        let huge = "huge TXT " + (0..<70).map { "\"\($0)\(String(repeating: "z", count: 250))\"" }.joined(separator: " ")
        let zone = try ZoneTransferTests.zone("$TTL 60\n@ SOA ns hm 5 1 1 1 30\n\(hosts)\n\(big)\n\(huge)\n")
        let messages = try ZoneTransferTests.messages(zone)
        #expect(messages.count > 3)
        #expect(messages.contains { $0.answers.count == 1 && $0.answers.first?.type == .txt })
        try ZoneTransferTests.check(zone)
    }

    @Test func anyZoneParsesBackToItsRecordsInMessagesThatFit() async {
        await propertyCheck(count: 100, input: MessageRecipe.messages) { message in
            let origin = ZoneTransferTests.origin
            let records = (message.answers + message.authority + message.additional)
                .filter { $0.type != .soa && $0.type != .cname && $0.type != .opt && $0.type != TSIGRecord.type }
                .map { record -> ResourceRecord in
                    var record = record
                    record.name = DNSName(labels: record.name.labels.prefix(2) + origin.labels)
                    record.rclass = DNSClass.internet
                    return record
                }
                .filter { (try? $0.data.uncompressedLength(as: $0.type)) != nil }
            let soa = ResourceRecord(name: origin, type: .soa, ttl: 60, data: .soa(.init(mname: origin, rname: origin, serial: 1,
                                                                                       refresh: 1, retry: 1, expire: 1, minimum: 1)))
            guard let zone = try? Zone(origin: origin, records: [soa] + records) else {
                Issue.record("the recipe's records do not make a zone")
                return
            }
            try? ZoneTransferTests.check(zone)
        }
    }
}
