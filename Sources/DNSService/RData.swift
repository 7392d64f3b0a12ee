/// The data of a record, for the types served; anything else is kept as opaque bytes
/// (RFC 3597).
public enum RData: Hashable, Sendable {
    case a([UInt8])
    case aaaa([UInt8])
    case ns(DNSName)
    case cname(DNSName)
    case ptr(DNSName)
    case mx(preference: UInt16, exchange: DNSName)
    case txt([[UInt8]])
    case soa(SOA)
    case srv(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName)
    case caa(flags: UInt8, tag: [UInt8], value: [UInt8])
    case unknown([UInt8])

    public struct SOA: Hashable, Sendable {
        public var mname: DNSName
        public var rname: DNSName
        public var serial: UInt32
        public var refresh: UInt32
        public var retry: UInt32
        public var expire: UInt32
        public var minimum: UInt32
    }

    /// The name this record points at that an answer's additional section may resolve.
    var target: DNSName? {
        switch self {
        case .ns(let name), .mx(_, let name), .srv(_, _, _, let name): name
        default: nil
        }
    }

    /// Writes the data; throws for what its type cannot carry (what `decode` would refuse).
    func encode(into writer: inout WireWriter, as type: RRType) throws(DNSWireError) {
        switch self {
        case .a(let bytes):
            guard bytes.count == 4 else { throw .badRData(type) }
            writer.append(bytes)
        case .aaaa(let bytes):
            guard bytes.count == 16 else { throw .badRData(type) }
            writer.append(bytes)
        case .unknown(let bytes):
            writer.append(bytes)
        case .ns(let name), .cname(let name), .ptr(let name):
            try writer.name(name)
        case .mx(let preference, let exchange):
            writer.u16(preference)
            try writer.name(exchange)
        case .txt(let strings):
            guard !strings.isEmpty else { throw .badRData(type) }
            for string in strings { try writer.characterString(string, of: type) }
        case .soa(let soa):
            try writer.name(soa.mname)
            try writer.name(soa.rname)
            for value in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] { writer.u32(value) }
        case .srv(let priority, let weight, let port, let target):
            writer.u16(priority)
            writer.u16(weight)
            writer.u16(port)
            try writer.name(target, compress: false)  // RFC 2782
        case .caa(let flags, let tag, let value):
            guard !tag.isEmpty else { throw .badRData(type) }
            writer.u8(flags)
            try writer.characterString(tag, of: type)
            writer.append(value)
        }
    }

    /// The RDATA's length without compression (the most it can take in a message; past
    /// 65535 it cannot be sent at all), or why it cannot be encoded. A zone checks it
    /// when it loads, so that no query ever meets a record that cannot be written.
    func uncompressedLength(as type: RRType) throws(DNSWireError) -> Int {
        var writer = WireWriter(compressing: false)
        try encode(into: &writer, as: type)
        return writer.count
    }

    /// Decodes `length` bytes of RDATA of `type` at the reader's position.
    static func decode(_ type: RRType, length: Int, from reader: inout WireReader) throws(DNSWireError) -> RData {
        let end = reader.position + length
        guard length >= 0, end <= reader.limit else { throw .truncated }
        let outerLimit = reader.limit
        reader.limit = end
        defer { reader.limit = outerLimit }
        let data: RData
        switch type {
        case .a:
            guard length == 4 else { throw .badRData(type) }
            data = .a(try reader.take(4))
        case .aaaa:
            guard length == 16 else { throw .badRData(type) }
            data = .aaaa(try reader.take(16))
        case .ns: data = .ns(try reader.name())
        case .cname: data = .cname(try reader.name())
        case .ptr: data = .ptr(try reader.name())
        case .mx: data = .mx(preference: try reader.u16(), exchange: try reader.name())
        case .txt:
            var strings: [[UInt8]] = []
            while reader.remaining > 0 { strings.append(try reader.take(Int(try reader.u8()))) }
            guard !strings.isEmpty else { throw .badRData(type) }
            data = .txt(strings)
        case .soa:
            data = .soa(SOA(mname: try reader.name(), rname: try reader.name(), serial: try reader.u32(),
                            refresh: try reader.u32(), retry: try reader.u32(), expire: try reader.u32(), minimum: try reader.u32()))
        case .srv:
            data = .srv(priority: try reader.u16(), weight: try reader.u16(), port: try reader.u16(), target: try reader.name())
        case .caa:
            let flags = try reader.u8()
            let tag = try reader.take(Int(try reader.u8()))
            guard !tag.isEmpty else { throw .badRData(type) }
            data = .caa(flags: flags, tag: tag, value: try reader.take(reader.remaining))
        default:
            data = .unknown(try reader.take(length))
        }
        guard reader.position == end else { throw .badRData(type) }
        return data
    }
}

/// A resource record: owner, type, class, TTL and data.
public struct ResourceRecord: Hashable, Sendable {
    public var name: DNSName
    public var type: RRType
    public var rclass: UInt16
    public var ttl: UInt32
    public var data: RData

    public init(name: DNSName, type: RRType, rclass: UInt16 = DNSClass.internet, ttl: UInt32, data: RData) {
        self.name = name
        self.type = type
        self.rclass = rclass
        self.ttl = ttl
        self.data = data
    }

    func encode(into writer: inout WireWriter) throws(DNSWireError) {
        try writer.name(name)
        writer.u16(type.rawValue)
        writer.u16(rclass)
        writer.u32(ttl)
        let lengthAt = writer.count
        writer.u16(0)
        try data.encode(into: &writer, as: type)
        guard let length = UInt16(exactly: writer.count - lengthAt - 2) else { throw .badRData(type) }
        writer.set(length, at: lengthAt)
    }

    static func decode(from reader: inout WireReader) throws(DNSWireError) -> ResourceRecord {
        let name = try reader.name()
        let type = RRType(rawValue: try reader.u16())
        let rclass = try reader.u16()
        let ttl = try reader.u32()
        let length = Int(try reader.u16())
        let data = try RData.decode(type, length: length, from: &reader)
        return ResourceRecord(name: name, type: type, rclass: rclass, ttl: ttl, data: data)
    }
}
