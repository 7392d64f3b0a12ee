import ServerCore

/// A TSIG record (RFC 8945 4.2): the last of a message's additional section, authenticating
/// everything before it with a shared key.
struct TSIGRecord: Equatable, Sendable {
    var keyName: DNSName
    var algorithm: DNSName
    /// Seconds since the epoch, 48 bits on the wire.
    var timeSigned: UInt64
    var fudge: UInt16
    var mac: [UInt8]
    var originalID: UInt16
    var error: UInt16
    var other: [UInt8]

    static let type = RRType(rawValue: 250)
    static let largestTime: UInt64 = 0xFFFF_FFFF_FFFF

    /// The TSIG error codes (RFC 8945 4.2; 16 is also EDNS's BADVERS).
    enum Failure: UInt16, Sendable {
        case badSig = 16
        case badKey = 17
        case badTime = 18
    }

    /// The record at the end of `bytes` and the message as it was before it was signed (the
    /// original ID back, ARCOUNT one less); nil when the last record is not a TSIG. A TSIG
    /// anywhere else, or one that does not parse, throws.
    static func split(_ bytes: [UInt8]) throws(DNSWireError) -> (record: TSIGRecord, unsigned: [UInt8])? {
        guard let header = DNSMessage.header(of: bytes) else { throw .truncated }
        var reader = WireReader(bytes)
        reader.position = DNSMessage.headerLength
        for _ in 0..<header.counts[0] {
            _ = try reader.name()
            _ = try reader.take(4)
        }
        let records = header.counts[1] + header.counts[2] + header.counts[3]
        var lastStart = reader.position
        for index in 0..<records {
            lastStart = reader.position
            _ = try reader.name()
            let type = RRType(rawValue: try reader.u16())
            _ = try reader.take(6)
            let length = Int(try reader.u16())
            _ = try reader.take(length)
            if type == TSIGRecord.type && (index != records - 1 || header.counts[3] == 0) { throw .badRData(type) }
            if type == TSIGRecord.type {
                reader.position = lastStart
                let record = try decode(from: &reader)
                guard reader.position == bytes.count else { throw .badRData(type) }
                var unsigned = Array(bytes[..<lastStart])
                unsigned[0] = UInt8(record.originalID >> 8)
                unsigned[1] = UInt8(truncatingIfNeeded: record.originalID)
                let count = UInt16(header.counts[3] - 1)  // at least one, checked above
                unsigned[10] = UInt8(count >> 8)
                unsigned[11] = UInt8(truncatingIfNeeded: count)
                return (record, unsigned)
            }
        }
        return nil
    }

    /// The whole record at the reader's position: owner, type, CLASS ANY, TTL 0, RDATA.
    static func decode(from reader: inout WireReader) throws(DNSWireError) -> TSIGRecord {
        let keyName = try reader.name()
        guard RRType(rawValue: try reader.u16()) == type, try reader.u16() == DNSClass.any, try reader.u32() == 0 else {
            throw .badRData(type)
        }
        let end = reader.position + Int(try reader.u16()) + 2
        let algorithm = try reader.name()
        let time = UInt64(try reader.u16()) << 32 | UInt64(try reader.u32())
        let fudge = try reader.u16()
        let mac = try reader.take(Int(try reader.u16()))
        let originalID = try reader.u16()
        let error = try reader.u16()
        let other = try reader.take(Int(try reader.u16()))
        guard reader.position == end else { throw .badRData(type) }
        return TSIGRecord(keyName: keyName, algorithm: algorithm, timeSigned: time, fudge: fudge, mac: mac,
                          originalID: originalID, error: error, other: other)
    }

    /// The record's wire form, names uncompressed (RFC 8945 4.2).
    var encoded: [UInt8] {
        var writer = WireWriter(compressing: false)
        // Both names were checked when the key was read or the record decoded.
        try? writer.name(keyName)
        writer.u16(TSIGRecord.type.rawValue)
        writer.u16(DNSClass.any)
        writer.u32(0)
        let lengthAt = writer.count
        writer.u16(0)
        try? writer.name(algorithm)
        appendTimers(to: &writer)
        writer.u16(UInt16(truncatingIfNeeded: mac.count))  // ours (at most 64) or a peer's, read from two octets
        writer.append(mac)
        writer.u16(originalID)
        writer.u16(error)
        writer.u16(UInt16(truncatingIfNeeded: other.count))
        writer.append(other)
        writer.set(UInt16(truncatingIfNeeded: writer.count - lengthAt - 2), at: lengthAt)
        return writer.bytes
    }

    /// What the MAC covers after the message (RFC 8945 4.3.3): every field but the MAC and
    /// the original ID, names in canonical form; or only the timers (4.3.1 for the later
    /// messages of a transfer).
    func variables(timersOnly: Bool) -> [UInt8] {
        var writer = WireWriter(compressing: false)
        guard !timersOnly else {
            appendTimers(to: &writer)
            return writer.bytes
        }
        try? writer.name(keyName.canonical)
        writer.u16(DNSClass.any)
        writer.u32(0)
        try? writer.name(algorithm.canonical)
        appendTimers(to: &writer)
        writer.u16(error)
        writer.u16(UInt16(truncatingIfNeeded: other.count))
        writer.append(other)
        return writer.bytes
    }

    private func appendTimers(to writer: inout WireWriter) {
        let time = min(timeSigned, TSIGRecord.largestTime)
        writer.u16(UInt16(time >> 32))
        writer.u32(UInt32(truncatingIfNeeded: time))
        writer.u16(fudge)
    }

    /// Its length in a message, to keep room for it.
    var size: Int { encoded.count }
}

extension DNSName {
    /// Lower-case ASCII, as DNSSEC and TSIG compare names (RFC 4034 6.2).
    var canonical: DNSName {
        DNSName(labels: labels.map { $0.map { (65...90).contains($0) ? $0 | 0x20 : $0 } })
    }
}
