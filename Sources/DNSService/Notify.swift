import ServerCore

/// NOTIFY (RFC 1996): the message a primary sends its secondaries when a zone changes, and
/// where it goes. Pure: what to send and to whom; `NotifySender` sends it.
public enum Notify {
    /// DNS opcode NOTIFY.
    static let opcode: UInt8 = 4

    /// The NOTIFY for `zone` (RFC 1996 3.7): opcode 4, AA, the zone's SOA as question and
    /// answer; signed when a key is given.
    static func message(for zone: Zone, id: UInt16, key: TSIGKey?, now: UInt64) -> [UInt8] {
        var message = DNSMessage()
        message.id = id
        message.opcode = opcode
        message.authoritative = true
        message.questions = [DNSMessage.Question(name: zone.origin, type: .soa)]
        message.answers = [zone.soa]
        let bytes = message.encode()
        guard let key else { return bytes }
        var signer = TSIGSigner(requestKey: key, time: now)
        return signer.sign(bytes)
    }

    /// Whether `reply` answers our NOTIFY `id` for `origin` (any rcode: the peer heard it).
    static func answers(_ reply: [UInt8], id: UInt16, origin: DNSName) -> Bool {
        guard let header = DNSMessage.header(of: reply), header.isResponse, header.id == id, header.opcode == opcode else { return false }
        return DNSMessage.firstQuestion(of: reply).map { $0.name == origin } ?? true
    }

    /// Where a NOTIFY for `zone` goes (RFC 1996 3.6): the zone's NS hosts but the SOA's
    /// MNAME (the primary), on port 53, at the addresses the zone itself holds for them
    /// (glue or in-zone A/AAAA), and the `extras` configured. NS names outside the zone
    /// come back in `elsewhere`, to be resolved some other way or skipped.
    static func targets(_ zone: Zone, extras: [SocketAddress]) -> (addresses: [SocketAddress], elsewhere: [DNSName]) {
        var addresses: [SocketAddress] = []
        var elsewhere: [DNSName] = []
        guard case .soa(let soa) = zone.soa.data else { return (extras, []) }
        for record in zone.rrsets(at: zone.origin)?[.ns] ?? [] {
            guard case .ns(let host) = record.data, host != soa.mname else { continue }
            guard host.isSubdomain(of: zone.origin) else {
                elsewhere.append(host)
                continue
            }
            addresses += addressRecords(zone.rrsets(at: host) ?? [:]).map { SocketAddress(ip: $0, port: 53) }
        }
        for extra in extras where !addresses.contains(extra) { addresses.append(extra) }
        return (addresses, elsewhere)
    }

    /// The addresses in a node's (or an answer's) A and AAAA records.
    static func addressRecords(_ rrsets: [RRType: [ResourceRecord]]) -> [IPAddress] {
        (rrsets[.a] ?? []).compactMap(address) + (rrsets[.aaaa] ?? []).compactMap(address)
    }

    static func address(_ record: ResourceRecord) -> IPAddress? {
        switch record.data {
        case .a(let bytes) where bytes.count == 4: IPAddress(bytes.map(String.init).joined(separator: "."))
        case .aaaa(let bytes) where bytes.count == 16:
            IPAddress(stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }.joined(separator: ":"))
        default: nil
        }
    }

    /// What a reload did to a zone, for NOTIFY and its warning.
    enum Change: Equatable {
        /// New, or its serial grew (RFC 1982): secondaries are told.
        case grew
        /// Its records changed but its serial did not grow: secondaries will not see it.
        case changedWithoutSerial(old: UInt32, new: UInt32)
    }

    /// How each zone of `new` differs from its version in `old` (unchanged ones are left out).
    static func changes(from old: [Zone], to new: [Zone]) -> [(zone: Zone, change: Change)] {
        let before = Dictionary(old.map { ($0.origin, $0) }, uniquingKeysWith: { a, _ in a })
        return new.compactMap { zone in
            guard let previous = before[zone.origin] else { return (zone, .grew) }
            guard case .soa(let was) = previous.soa.data, case .soa(let now) = zone.soa.data else { return nil }
            if Serial.precedes(was.serial, now.serial) { return (zone, .grew) }
            guard previous.nodes != zone.nodes else { return nil }
            return (zone, .changedWithoutSerial(old: was.serial, new: now.serial))
        }
    }
}
