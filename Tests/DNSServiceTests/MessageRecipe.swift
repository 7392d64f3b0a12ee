import PropertyBased
@testable import DNSService

/// Builds a well-formed DNSMessage from bytes, so that the generator of messages is a
/// generator of byte arrays and shrinks with them. Running out of bytes reads zeros.
struct MessageRecipe {
    private var bytes: ArraySlice<UInt8>

    /// Messages from a few hundred bytes: up to 3 questions and 24 records, repeated up to
    /// 128 times, so that some need many kilobytes and a few more than 65535.
    static let messages = Gen<UInt8>.value(in: 0...255).array(of: 0...300).map { MessageRecipe.message(from: $0) }

    static func message(from bytes: [UInt8]) -> DNSMessage {
        var recipe = MessageRecipe(bytes: bytes[...])
        return recipe.message()
    }

    private mutating func byte() -> UInt8 { bytes.popFirst() ?? 0 }

    private mutating func u16() -> UInt16 { UInt16(byte()) << 8 | UInt16(byte()) }

    private mutating func message() -> DNSMessage {
        var message = DNSMessage()
        message.id = u16()
        let flags = byte()
        message.isResponse = flags & 1 != 0
        message.authoritative = flags & 2 != 0
        message.truncated = flags & 4 != 0
        message.recursionDesired = flags & 8 != 0
        message.recursionAvailable = flags & 16 != 0
        message.opcode = byte() % 16
        message.questions = (0..<Int(byte() % 4)).map { _ in DNSMessage.Question(name: name(), type: RRType(rawValue: u16()), qclass: u16()) }
        let records = (0..<Int(byte() % 25)).map { _ in record() }
        let repeats = Int(byte() % 128) + 1
        let all = Array((0..<repeats).map { _ in records }.joined())
        let cuts = (byte(), byte())
        let first = all.count * Int(cuts.0) / 256, second = first + (all.count - first) * Int(cuts.1) / 256
        message.answers = Array(all[..<first])
        message.authority = Array(all[first..<second])
        message.additional = Array(all[second...])
        if byte() % 2 == 1 {
            // The extended RCODE rides in the OPT record, so only then may it pass 15.
            message.rcode = u16() % 4096
            message.edns = DNSMessage.EDNS(udpSize: u16(), extendedRCode: UInt8(message.rcode >> 4), version: byte(),
                                           dnssecOK: byte() % 2 == 1, options: (0..<Int(byte() % 8)).map { _ in byte() })
        } else {
            message.rcode = UInt16(byte() % 16)
        }
        return message
    }

    /// Names from a few labels so that many share suffixes and compress; at most 193 octets.
    private mutating func name() -> DNSName {
        let labels: [[UInt8]] = [Array("www".utf8), Array("Example".utf8), Array("test".utf8), [0x2E, 0x00, 0xFF],
                                 Array(repeating: UInt8(ascii: "x"), count: 63)]
        return DNSName(labels: (0..<Int(byte() % 4)).map { _ in labels[Int(byte()) % labels.count] })
    }

    private mutating func record() -> ResourceRecord {
        let owner = name(), ttl = UInt32(u16()) << 16 | UInt32(u16())
        let kind = byte() % 11
        let (type, data): (RRType, RData)
        switch kind {
        case 0: (type, data) = (.a, .a([byte(), byte(), byte(), byte()]))
        case 1: (type, data) = (.aaaa, .aaaa((0..<16).map { _ in byte() }))
        case 2: (type, data) = (.ns, .ns(name()))
        case 3: (type, data) = (.cname, .cname(name()))
        case 4: (type, data) = (.ptr, .ptr(name()))
        case 5: (type, data) = (.mx, .mx(preference: u16(), exchange: name()))
        case 6:
            let strings = (0...Int(byte() % 3)).map { _ in [UInt8](repeating: byte(), count: Int(byte())) }
            (type, data) = (.txt, .txt(strings))
        case 7:
            let soa = RData.SOA(mname: name(), rname: name(), serial: UInt32(u16()), refresh: 1, retry: 2, expire: 3, minimum: UInt32(u16()))
            (type, data) = (.soa, .soa(soa))
        case 8: (type, data) = (.srv, .srv(priority: u16(), weight: u16(), port: u16(), target: name()))
        case 9: (type, data) = (.caa, .caa(flags: byte(), tag: Array("issue".utf8), value: [UInt8](repeating: byte(), count: Int(byte()))))
        default: (type, data) = (RRType(rawValue: 65280 + UInt16(byte())), .unknown([UInt8](repeating: byte(), count: Int(u16() % 2048))))
        }
        return ResourceRecord(name: owner, type: type, rclass: byte() % 2 == 0 ? DNSClass.internet : u16(), ttl: ttl, data: data)
    }
}
