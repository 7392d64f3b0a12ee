/// A zone as the messages of an AXFR response (RFC 5936 2.2): the SOA first, every record
/// (glue included), the SOA last, each message at most 16 KiB (one record that cannot fit
/// in that alone gets a message of its own, up to 65535 octets), names compressed, the
/// query's ID and AA in every one, the question in the first. Sans-I/O and lazy: each call
/// to `next` encodes one message, so a large zone is never held encoded.
public struct ZoneTransfer: Sendable {
    /// As NSD: the compression pointers reach every name, and a lost message costs little.
    public static let messageLimit = 16384

    private let zone: Zone
    private let id: UInt16
    private let question: DNSMessage.Question?
    private var signer: TSIGSigner?
    private var phase = Phase.firstSOA
    private var pendingOwner: [ResourceRecord] = []
    public private(set) var messages = 0
    public private(set) var records = 0
    public private(set) var bytes = 0

    private enum Phase {
        case firstSOA
        case body(Dictionary<DNSName, [RRType: [ResourceRecord]]>.Index)
        case lastSOA
        case done
    }

    init(zone: Zone, id: UInt16, question: DNSMessage.Question?, signer: TSIGSigner?) {
        self.zone = zone
        self.id = id
        self.question = question
        self.signer = signer
    }

    /// The next message's wire form; nil once the closing SOA has gone.
    public mutating func next() -> [UInt8]? {
        guard peek() != nil else { return nil }
        let reserve = signer?.reserve ?? 0
        var writer = WireWriter()
        writer.u16(id)
        writer.u16(0x8400)  // QR and AA, opcode QUERY, NOERROR
        for _ in 0..<4 { writer.u16(0) }
        if messages == 0, let question {
            // A question past the limit was never decoded: the name is at most 255 octets.
            try? writer.name(question.name)
            writer.u16(question.type.rawValue)
            writer.u16(question.qclass)
            writer.set(1, at: 4)
        }
        var count = 0
        while let record = peek() {
            let before = writer.count
            do {
                try record.encode(into: &writer)
            } catch {
                // The zone checked every record when it loaded; one that still fails is left out.
                writer.truncate(to: before)
                advance()
                continue
            }
            if writer.count + reserve > ZoneTransfer.messageLimit {
                guard count == 0, writer.count + reserve <= DNSMessage.maxSize else {
                    writer.truncate(to: before)
                    break
                }
            }
            count += 1
            advance()
            if writer.count + reserve > ZoneTransfer.messageLimit { break }
        }
        // Each record takes at least 11 octets of at most 65535: the count fits.
        writer.set(UInt16(truncatingIfNeeded: count), at: 6)
        let message = signer?.sign(writer.bytes) ?? writer.bytes
        messages += 1
        records += count
        bytes += message.count
        return message
    }

    /// The record the next message starts with (nil at the end).
    private mutating func peek() -> ResourceRecord? {
        while true {
            switch phase {
            case .firstSOA, .lastSOA: return zone.soa
            case .done: return nil
            case .body(let index):
                if let record = pendingOwner.last { return record }
                guard index != zone.nodes.endIndex else {
                    phase = .lastSOA
                    continue
                }
                // Reversed, so that `removeLast` takes them in order.
                pendingOwner = zone.nodes[index].value.sorted { $0.key.rawValue < $1.key.rawValue }
                    .flatMap { $0.key == .soa ? [] : $0.value }.reversed()
                phase = .body(zone.nodes.index(after: index))
            }
        }
    }

    private mutating func advance() {
        switch phase {
        case .firstSOA: phase = .body(zone.nodes.startIndex)
        case .lastSOA: phase = .done
        case .done: break
        case .body: pendingOwner.removeLast()
        }
    }
}
