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

    /// The fixed header of a message whose body may be unreadable or not worth reading.
    public struct Header: Sendable {
        public let id: UInt16
        public let flags: UInt16
        /// QDCOUNT, ANCOUNT, NSCOUNT and ARCOUNT.
        public let counts: SectionCounts

        public var isResponse: Bool { flags & 0x8000 != 0 }
        public var opcode: UInt8 { UInt8((flags >> 11) & 0xF) }
    }

    /// A header's four counts, held inline rather than in an array: reading the header of
    /// every query allocates nothing.
    public struct SectionCounts: Sendable {
        let question, answer, authority, additional: Int

        /// Section 0 (question) to 3 (additional).
        public subscript(section: Int) -> Int {
            switch section {
            case 0: question
            case 1: answer
            case 2: authority
            default: additional
            }
        }
    }

    public static func header(of bytes: [UInt8]) -> Header? {
        guard bytes.count >= headerLength else { return nil }
        func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]) }
        return Header(id: u16(0), flags: u16(2), counts: SectionCounts(question: Int(u16(4)), answer: Int(u16(6)),
                                                                       authority: Int(u16(8)), additional: Int(u16(10))))
    }

    /// The first question alone, if the header says there is one and it can be read: all
    /// that an error reply echoes.
    public static func firstQuestion(of bytes: [UInt8]) -> Question? {
        guard let header = header(of: bytes), header.counts[0] > 0 else { return nil }
        var reader = WireReader(bytes)
        reader.position = headerLength
        guard let name = try? reader.name(), let type = try? reader.u16(), let qclass = try? reader.u16() else { return nil }
        return Question(name: name, type: RRType(rawValue: type), qclass: qclass)
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

    /// The largest message: what TCP's two-byte length prefix can carry (RFC 1035 4.2.2).
    public static let maxSize = 65535

    /// The wire form in at most `maxSize` bytes (taken as 512 to 65535). What does not fit,
    /// or cannot be encoded at all, is left out: a question and everything after it, or an
    /// answer or authority RRset and everything after it, and TC is set; the additional
    /// section is filled as far as it goes (RFC 2181 9). The OPT record always fits; its
    /// options only if they do (else TC).
    public func encode(maxSize: Int = DNSMessage.maxSize) -> [UInt8] {
        let limit = min(max(maxSize, 512), DNSMessage.maxSize)
        var writer = WireWriter()
        writer.u16(id)
        for _ in 0..<5 { writer.u16(0) }
        var cutShort = false
        var options = edns?.options ?? []
        if edns != nil && DNSMessage.headerLength + DNSMessage.optLength + options.count > limit {
            options = []
            cutShort = true
        }
        let budget = limit - (edns == nil ? 0 : DNSMessage.optLength + options.count)
        /// Writes `body`, or undoes it when it cannot be encoded or passes the budget.
        func fits(_ body: (inout WireWriter) throws(DNSWireError) -> Void) -> Bool {
            let before = writer.count
            do {
                try body(&writer)
                if writer.count <= budget { return true }
            } catch {}
            writer.truncate(to: before)
            return false
        }
        // Every entry takes at least 5 octets (a question) or 11 (a record) of at most
        // 65535: no count can pass 65535.
        var counts = [0, 0, 0, 0]
        for question in questions {
            guard fits({ writer throws(DNSWireError) in
                try writer.name(question.name)
                writer.u16(question.type.rawValue)
                writer.u16(question.qclass)
            }) else {
                cutShort = true
                break
            }
            counts[0] += 1
        }
        for (index, section) in [answers, authority, additional].enumerated() where !cutShort {
            for rrset in DNSMessage.rrsets(section) {
                guard fits({ writer throws(DNSWireError) in
                    for record in rrset { try record.encode(into: &writer) }
                }) else {
                    if index < 2 { cutShort = true }
                    break
                }
                counts[index + 1] += rrset.count
            }
        }
        if let edns {
            writer.u8(0)
            writer.u16(RRType.opt.rawValue)
            writer.u16(edns.udpSize)
            writer.u8(UInt8(truncatingIfNeeded: rcode >> 4))
            writer.u8(edns.version)
            writer.u16(edns.dnssecOK ? 0x8000 : 0)
            writer.u16(UInt16(options.count))  // at most `limit` less the header and OPT, checked above
            writer.append(options)
            counts[3] += 1
        }
        var flags = UInt16(opcode & 0xF) << 11 | (rcode & 0xF)
        if isResponse { flags |= 0x8000 }
        if authoritative { flags |= 0x0400 }
        if truncated || cutShort { flags |= 0x0200 }
        if recursionDesired { flags |= 0x0100 }
        if recursionAvailable { flags |= 0x0080 }
        if authenticData { flags |= 0x0020 }
        if checkingDisabled { flags |= 0x0010 }
        writer.set(flags, at: 2)
        for (index, count) in counts.enumerated() { writer.set(UInt16(count), at: 4 + index * 2) }
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
