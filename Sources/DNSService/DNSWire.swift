/// What can be wrong with a message on the wire.
public enum DNSWireError: Error, Equatable, Sendable {
    case truncated
    case badPointer
    case badLabel
    case nameTooLong
    case badRData(RRType)
}

/// Reads big-endian fields and compressed names from a message, every read bounds-checked.
struct WireReader {
    let bytes: [UInt8]
    var position = 0
    /// Reads past this offset fail (the end of the message, or of the current RDATA).
    var limit: Int

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        limit = bytes.count
    }

    var remaining: Int { limit - position }

    mutating func u8() throws(DNSWireError) -> UInt8 {
        guard position < limit else { throw .truncated }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func u16() throws(DNSWireError) -> UInt16 {
        UInt16(try u8()) << 8 | UInt16(try u8())
    }

    mutating func u32() throws(DNSWireError) -> UInt32 {
        UInt32(try u16()) << 16 | UInt32(try u16())
    }

    mutating func take(_ count: Int) throws(DNSWireError) -> [UInt8] {
        guard count >= 0, position + count <= limit else { throw .truncated }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    /// A name, following compression pointers; each must point before itself (so no loop
    /// is possible) and the name may not exceed 255 octets (miekg/dns does the same).
    mutating func name() throws(DNSWireError) -> DNSName {
        var labels: [[UInt8]] = []
        var cursor = position
        var jumped = false
        var length = 1
        while true {
            // Before the first jump the name must lie within the limit; after it, anywhere earlier.
            let bound = jumped ? bytes.count : limit
            guard cursor < bound else { throw .truncated }
            let size = Int(bytes[cursor])
            switch size & 0xC0 {
            case 0xC0:
                guard cursor + 1 < bound else { throw .truncated }
                let target = (size & 0x3F) << 8 | Int(bytes[cursor + 1])
                guard target < cursor else { throw .badPointer }
                if !jumped { position = cursor + 2 }
                jumped = true
                cursor = target
            case 0x00:
                if size == 0 {
                    if !jumped { position = cursor + 1 }
                    return DNSName(labels: labels)
                }
                length += size + 1
                guard length <= DNSName.maxWireLength else { throw .nameTooLong }
                guard cursor + 1 + size <= bound else { throw .truncated }
                labels.append(Array(bytes[(cursor + 1)...(cursor + size)]))
                cursor += 1 + size
            default:
                throw .badLabel
            }
        }
    }
}

/// Writes a message, compressing names against those already written. What the wire
/// cannot carry (a label past 63 octets, a name past 255, a length past its field) throws
/// before any `UInt8(...)`/`UInt16(...)` conversion could trap.
struct WireWriter {
    private(set) var bytes: [UInt8] = []
    private var offsets: [DNSName: Int] = [:]
    private let compressing: Bool

    /// A pointer has 14 bits of offset: a name written past this cannot be pointed at.
    static let maxPointerOffset = 0x3FFF

    init(compressing: Bool = true) {
        self.compressing = compressing
        bytes.reserveCapacity(512)
    }

    var count: Int { bytes.count }

    mutating func u8(_ value: UInt8) { bytes.append(value) }

    mutating func u16(_ value: UInt16) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func u32(_ value: UInt32) {
        u16(UInt16(value >> 16))
        u16(UInt16(truncatingIfNeeded: value))
    }

    mutating func append(_ data: [UInt8]) { bytes.append(contentsOf: data) }

    /// A <character-string>: one length octet, then at most 255 octets.
    mutating func characterString(_ data: [UInt8], of type: RRType) throws(DNSWireError) {
        guard let length = UInt8(exactly: data.count) else { throw .badRData(type) }
        u8(length)
        append(data)
    }

    mutating func set(_ value: UInt16, at offset: Int) {
        bytes[offset] = UInt8(value >> 8)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: value)
    }

    mutating func name(_ name: DNSName, compress: Bool = true) throws(DNSWireError) {
        guard name.labels.allSatisfy({ (1...63).contains($0.count) }) else { throw .badLabel }
        guard name.wireLength <= DNSName.maxWireLength else { throw .nameTooLong }
        var labels = name.labels[...]
        while !labels.isEmpty {
            let suffix = DNSName(labels: Array(labels))
            if compress && compressing, let offset = offsets[suffix] {
                u16(0xC000 | UInt16(offset))
                return
            }
            if bytes.count <= WireWriter.maxPointerOffset && offsets[suffix] == nil { offsets[suffix] = bytes.count }
            let label = labels.removeFirst()
            u8(UInt8(label.count))
            append(label)
        }
        u8(0)
    }

    /// Undoes everything written after `count`, forgetting names written there.
    mutating func truncate(to count: Int) {
        guard count < bytes.count else { return }
        bytes.removeSubrange(count...)
        offsets = offsets.filter { $0.value < count }
    }
}
