/// A DNS message (RFC 1035 4.1) with its EDNS OPT record lifted out (RFC 6891).
public struct DNSMessage: Sendable, Equatable {
    public struct Question: Hashable, Sendable {
        public var name: DNSName
        public var type: RRType
        public var qclass: UInt16

        public init(name: DNSName, type: RRType, qclass: UInt16 = DNSClass.internet) {
            self.name = name
            self.type = type
            self.qclass = qclass
        }
    }

    public struct EDNS: Equatable, Sendable {
        public var udpSize: UInt16
        /// The upper 8 bits of a 12-bit RCODE.
        public var extendedRCode: UInt8 = 0
        public var version: UInt8 = 0
        public var dnssecOK = false
        public var options: [UInt8] = []
    }

    public var id: UInt16 = 0
    public var isResponse = false
    public var opcode: UInt8 = 0
    public var authoritative = false
    public var truncated = false
    public var recursionDesired = false
    public var recursionAvailable = false
    public var authenticData = false
    public var checkingDisabled = false
    /// The full RCODE: low 4 bits in the header, the rest in the OPT record.
    public var rcode: UInt16 = 0
    public var questions: [Question] = []
    public var answers: [ResourceRecord] = []
    public var authority: [ResourceRecord] = []
    public var additional: [ResourceRecord] = []
    public var edns: EDNS?

    public init() {}

    static let headerLength = 12
    static let optLength = 11

    /// The ID and flags of a message whose body may be unreadable, to answer FORMERR.
    public static func header(of bytes: [UInt8]) -> (id: UInt16, flags: UInt16)? {
        guard bytes.count >= headerLength else { return nil }
        return (UInt16(bytes[0]) << 8 | UInt16(bytes[1]), UInt16(bytes[2]) << 8 | UInt16(bytes[3]))
    }

    public static func decode(_ bytes: [UInt8]) throws(DNSWireError) -> DNSMessage {
        var reader = WireReader(bytes)
        var message = DNSMessage()
        message.id = try reader.u16()
        let flags = try reader.u16()
        message.isResponse = flags & 0x8000 != 0
        message.opcode = UInt8((flags >> 11) & 0xF)
        message.authoritative = flags & 0x0400 != 0
        message.truncated = flags & 0x0200 != 0
        message.recursionDesired = flags & 0x0100 != 0
        message.recursionAvailable = flags & 0x0080 != 0
        message.authenticData = flags & 0x0020 != 0
        message.checkingDisabled = flags & 0x0010 != 0
        message.rcode = flags & 0xF
        let counts = [try reader.u16(), try reader.u16(), try reader.u16(), try reader.u16()]
        for _ in 0..<counts[0] {
            message.questions.append(Question(name: try reader.name(), type: RRType(rawValue: try reader.u16()), qclass: try reader.u16()))
        }
        for _ in 0..<counts[1] { message.answers.append(try ResourceRecord.decode(from: &reader)) }
        for _ in 0..<counts[2] { message.authority.append(try ResourceRecord.decode(from: &reader)) }
        for _ in 0..<counts[3] {
            let record = try ResourceRecord.decode(from: &reader)
            guard record.type == .opt else {
                message.additional.append(record)
                continue
            }
            // One OPT, owned by the root (RFC 6891 6.1.1).
            guard message.edns == nil, record.name.isRoot, case .unknown(let options) = record.data else { throw .badRData(.opt) }
            message.edns = EDNS(udpSize: record.rclass, extendedRCode: UInt8(record.ttl >> 24), version: UInt8(truncatingIfNeeded: record.ttl >> 16),
                                dnssecOK: record.ttl & 0x8000 != 0, options: options)
            message.rcode |= UInt16(record.ttl >> 24) << 4
        }
        return message
    }

    /// The wire form in at most `maxSize` bytes. What does not fit is left out whole
    /// RRset by RRset: past the answer or authority section that sets TC; the additional
    /// section is filled as far as it goes (RFC 2181 9). The OPT record always fits.
    public func encode(maxSize: Int = 65535) -> [UInt8] {
        var writer = WireWriter()
        writer.u16(id)
        writer.u16(0)
        for _ in 0..<4 { writer.u16(0) }
        for question in questions {
            writer.name(question.name)
            writer.u16(question.type.rawValue)
            writer.u16(question.qclass)
        }
        let budget = maxSize - (edns == nil ? 0 : DNSMessage.optLength)
        var truncated = self.truncated
        var counts = [UInt16(questions.count), 0, 0, 0]
        for (index, section) in [answers, authority, additional].enumerated() where !truncated {
            for rrset in DNSMessage.rrsets(section) {
                let before = writer.count
                for record in rrset { record.encode(into: &writer) }
                if writer.count > budget {
                    writer.truncate(to: before)
                    if index < 2 { truncated = true }
                    break
                }
                counts[index + 1] += UInt16(rrset.count)
            }
        }
        if let edns {
            writer.u8(0)
            writer.u16(RRType.opt.rawValue)
            writer.u16(edns.udpSize)
            writer.u8(UInt8(truncatingIfNeeded: rcode >> 4))
            writer.u8(edns.version)
            writer.u16(edns.dnssecOK ? 0x8000 : 0)
            writer.u16(UInt16(edns.options.count))
            writer.append(edns.options)
            counts[3] += 1
        }
        var flags = UInt16(opcode & 0xF) << 11 | (rcode & 0xF)
        if isResponse { flags |= 0x8000 }
        if authoritative { flags |= 0x0400 }
        if truncated { flags |= 0x0200 }
        if recursionDesired { flags |= 0x0100 }
        if recursionAvailable { flags |= 0x0080 }
        if authenticData { flags |= 0x0020 }
        if checkingDisabled { flags |= 0x0010 }
        writer.set(flags, at: 2)
        for (index, count) in counts.enumerated() { writer.set(count, at: 4 + index * 2) }
        return writer.bytes
    }

    /// Consecutive records with the same owner, type and class.
    static func rrsets(_ records: [ResourceRecord]) -> [ArraySlice<ResourceRecord>] {
        var sets: [ArraySlice<ResourceRecord>] = []
        var start = records.startIndex
        for index in records.indices.dropFirst() {
            let a = records[index - 1], b = records[index]
            if a.name != b.name || a.type != b.type || a.rclass != b.rclass {
                sets.append(records[start..<index])
                start = index
            }
        }
        if start < records.endIndex { sets.append(records[start...]) }
        return sets
    }
}
