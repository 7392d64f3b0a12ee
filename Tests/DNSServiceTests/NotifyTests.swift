import ServerCore
import Testing
@testable import DNSService

/// NOTIFY on bytes: the message, its targets, what a reload changed, and how the responder
/// answers one (from the primary, from anyone else, for a zone not ours).
@Suite struct NotifyTests {
    static let zoneText = "$TTL 60\n@ SOA ns1 hm 5 1 1 1 30\n@ NS ns1\n@ NS ns2\n@ NS ns.elsewhere.example.\n"
        + "ns1 A 192.0.2.1\nns2 A 192.0.2.2\nns2 AAAA 2001:db8::2\n"

    @Test func theMessageIsOpcodeNotifyWithTheSOAAndTargetsAreTheNSHostsButTheMNAME() throws {
        let zone = try ZoneTransferTests.zone(NotifyTests.zoneText)
        let message = try DNSMessage.decode(Notify.message(for: zone, id: 42, key: nil, now: 0))
        #expect(message.opcode == 4 && message.authoritative && !message.isResponse && message.id == 42)
        #expect(message.questions == [.init(name: zone.origin, type: .soa)])
        #expect(message.answers == [zone.soa])
        let extra = SocketAddress("192.0.2.9:5300", defaultPort: 53)!
        let (addresses, elsewhere) = Notify.targets(zone, extras: [extra])
        #expect(addresses.map(\.description) == ["192.0.2.2:53", "[2001:db8::2]:53", "192.0.2.9:5300"])
        #expect(elsewhere == [DNSName("ns.elsewhere.example.")!])
    }

    @Test func aReloadNotifiesZonesWhoseSerialGrewAndWarnsOfChangesWithoutOne() throws {
        let old = try ZoneTransferTests.zone(NotifyTests.zoneText)
        let grew = try ZoneTransferTests.zone(NotifyTests.zoneText.replacingOccurrences(of: " 5 1 1", with: " 6 1 1") + "new A 192.0.2.7\n")
        let same = try ZoneTransferTests.zone(NotifyTests.zoneText + "new A 192.0.2.7\n")
        #expect(Notify.changes(from: [old], to: [grew]).map(\.change) == [.grew])
        #expect(Notify.changes(from: [old], to: [same]).map(\.change) == [.changedWithoutSerial(old: 5, new: 5)])
        #expect(Notify.changes(from: [old], to: [old]).isEmpty)
        #expect(Notify.changes(from: [], to: [old]).map(\.change) == [.grew])
    }

    final class Receiver: NotifyReceiver {
        func notified(_ origin: DNSName, from sender: IPAddress) -> NotifyVerdict {
            origin != DNSName("example.test.")! ? .notSecondary : sender == IPAddress("127.0.0.1")! ? .accepted : .notFromPrimary
        }
    }

    @Test func theResponderAnswersANotifyFromThePrimaryAndRefusesOthers() throws {
        let zone = try ZoneTransferTests.zone(NotifyTests.zoneText)
        let responder = DNSResponder(zones: ZoneStore(zones: []), forwarder: nil, allowRecursion: [], secondaries: Receiver(),
                                     logger: .init(label: "test"))
        func answer(from ip: String, _ bytes: [UInt8]) throws -> DNSMessage {
            let client = ConnectionID(local: SocketAddress(ip: IPAddress("127.0.0.1")!, port: 53), remote: SocketAddress(ip: IPAddress(ip)!, port: 4000))
            guard case .now(let reply?) = responder.answer(bytes, from: client, over: .udp) else { throw DNSWireError.truncated }
            return try DNSMessage.decode(reply.bytes)
        }
        let notify = Notify.message(for: zone, id: 7, key: nil, now: 0)
        let accepted = try answer(from: "127.0.0.1", notify)
        #expect(accepted.isResponse && accepted.opcode == 4 && accepted.id == 7 && accepted.rcode == RCode.noError.rawValue)
        #expect(accepted.questions == [.init(name: zone.origin, type: .soa)])
        #expect(try answer(from: "127.0.0.2", notify).rcode == RCode.refused.rawValue)
        var foreign = try DNSMessage.decode(notify)
        foreign.questions = [.init(name: DNSName("example.com.")!, type: .soa)]
        foreign.answers = []
        #expect(try answer(from: "127.0.0.1", foreign.encode()).rcode == RCode.refused.rawValue)
    }
}
