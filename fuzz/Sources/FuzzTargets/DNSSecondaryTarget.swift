import DNSService
import ServerCore

/// The secondary's side: the input as the framed messages of a primary's reply, fed to a
/// TransferClient asking IXFR (serial 5), AXFR, and AXFR signed; a zone that comes out is
/// the zone asked for and its kept copy reads back as the same zone. The input as a NOTIFY
/// to a responder that is a secondary for example.test. gets a reply that decodes.
enum DNSSecondaryTarget {
    static let target = FuzzTarget(name: "dns-secondary", summary: "a primary's transfer messages to our TransferClient, and NOTIFY") {
        let key = TSIGKey(name: DNSName("xfr.test.")!, algorithm: .sha256, secret: Array("fuzzing secret".utf8))
        let policy = TransferPolicy(keys: [key.name: key], clock: { 1_700_000_000 })
        let responder = DNSResponder(zones: ZoneStore(zones: []), forwarder: nil, allowRecursion: [], transfers: policy,
                                     secondaries: Receiver(), logger: DNSResponderTarget.quiet)
        return { data in run([UInt8](data), key, responder) }
    }

    struct Receiver: NotifyReceiver {
        func notified(_ origin: DNSName, from sender: IPAddress) -> NotifyVerdict {
            origin == origin0 ? .accepted : .notSecondary
        }
    }

    static let origin0 = DNSName("example.test.")!

    static func run(_ input: [UInt8], _ key: TSIGKey, _ responder: DNSResponder) {
        var framer = LengthPrefixFramer()
        input.withUnsafeBytes { framer.append($0) }
        var messages: [[UInt8]] = []
        while case .message(let message) = framer.next(), messages.count < 64 { messages.append(message) }
        let id = messages.first.map { $0.count >= 2 ? UInt16($0[0]) << 8 | UInt16($0[1]) : 0 } ?? 0
        for (serial, ixfr, signing) in [(UInt32(5), true, nil), (nil, false, nil), (UInt32(5), false, key)] as [(UInt32?, Bool, TSIGKey?)] {
            var client = TransferClient(origin: origin0, serial: serial, ixfr: ixfr, key: signing, id: id, now: 1_700_000_000)
            for message in messages {
                switch client.receive(message, now: 1_700_000_000) {
                case .needMore: continue
                case .failed: break
                case .done(.upToDate(let current)): require(current == serial, "up to date at \(current), asked with \(String(describing: serial))")
                case .done(.zone(let zone)): check(zone)
                }
                break
            }
        }
        if case .now(let reply) = responder.answer(input, from: DNSResponderTarget.client, over: .udp), let reply {
            require((try? DNSMessage.decode(reply.bytes)) != nil, "a reply to a NOTIFY does not decode")
        }
    }

    static func check(_ zone: Zone) {
        require(zone.origin == origin0, "a transfer of \(zone.origin)")
        let text = zone.masterFile(comment: "fuzz")
        guard let records = try? ZoneFileParser.parse(String(decoding: text, as: UTF8.self), origin: .root),
              let again = try? Zone(origin: zone.origin, records: records) else {
            return require(false, "a kept copy does not read back:\n\(String(decoding: text, as: UTF8.self))")
        }
        require(again.masterFile(comment: "fuzz") == text, "a kept copy reads back as another zone")
    }
}
