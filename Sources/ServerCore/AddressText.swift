/// Addresses and numbers written straight into a byte buffer, for access lines (two
/// addresses a line): no String, no inet_ntop. IPv6 is written as inet_ntop writes it
/// (RFC 5952: lowercase, no leading zeros, the longest run of two or more zero groups as
/// `::`, the first of equal runs) so a line reads the same whichever way it was made.
/// Each piece is formatted on the stack and appended to the line at once: a byte at a time
/// into the Array cost about 2,000 instructions a datagram's line (callgrind).
enum AddressText {
    /// Enough for `[` + the longest IPv6 text (45) + `]:65535`, and for any UInt64 (20 digits).
    private static let room = 56

    static func appendDecimal(_ value: UInt64, to text: inout [UInt8]) {
        appendFormatted(to: &text) { $0.decimal(value) }
    }

    /// `1.2.3.4:53` or `[2001:db8::1]:53`.
    static func append(_ address: SocketAddress, to text: inout [UInt8]) {
        appendFormatted(to: &text) { cursor in
            if address.ip.isIPv6 { cursor.put(0x5B) }
            address.ip.write(into: &cursor)
            if address.ip.isIPv6 { cursor.put(0x5D) }
            cursor.put(0x3A)
            cursor.decimal(UInt64(address.port))
        }
    }

    static func append(_ ip: IPAddress, to text: inout [UInt8]) {
        appendFormatted(to: &text) { ip.write(into: &$0) }
    }

    private static func appendFormatted(to text: inout [UInt8], _ format: (inout TextCursor) -> Void) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: room) { buffer in
            var cursor = TextCursor(buffer: buffer)
            format(&cursor)
            text.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<cursor.count]))
        }
    }
}

/// Writes into a buffer `AddressText.room` long; what is written is bounded by construction.
private struct TextCursor {
    let buffer: UnsafeMutableBufferPointer<UInt8>
    var count = 0

    init(buffer: UnsafeMutableBufferPointer<UInt8>) { self.buffer = buffer }

    mutating func put(_ byte: UInt8) {
        buffer[count] = byte
        count += 1
    }

    /// Digits counted, then written backwards into their place.
    mutating func decimal(_ value: UInt64) {
        var digits = 1, rest = value / 10
        while rest > 0 { digits += 1; rest /= 10 }
        var value = value
        for place in stride(from: count + digits - 1, through: count, by: -1) {
            buffer[place] = UInt8(truncatingIfNeeded: 0x30 + value % 10)
            value /= 10
        }
        count += digits
    }

    /// `address` in host byte order.
    mutating func ipv4(_ address: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) {
            if shift < 24 { put(0x2E) }
            decimal(UInt64(address >> UInt32(shift) & 0xFF))
        }
    }

    mutating func hex(_ group: UInt16) {
        var started = false
        for shift in stride(from: 12, through: 0, by: -4) {
            let digit = UInt8(group >> UInt16(shift) & 0xF)
            guard started || digit != 0 || shift == 0 else { continue }
            started = true
            put(digit < 10 ? 0x30 + digit : 0x57 + digit)
        }
    }

    /// `hi` and `lo`: the address's bytes as stored (network order), loaded as two words.
    mutating func ipv6(_ hi: UInt64, _ lo: UInt64) {
        let words = (UInt64(bigEndian: hi), UInt64(bigEndian: lo))
        func group(_ i: Int) -> UInt16 {
            UInt16(truncatingIfNeeded: (i < 4 ? words.0 : words.1) >> UInt64(48 - 16 * (i % 4)))
        }
        var best = (start: -1, count: 0), run = (start: -1, count: 0)
        for i in 0..<8 {
            guard group(i) == 0 else {
                run = (-1, 0)
                continue
            }
            if run.start < 0 { run.start = i }
            run.count += 1
            if run.count > best.count { best = run }
        }
        if best.count < 2 { best = (-1, 0) }
        var i = 0
        while i < 8 {
            if i == best.start {
                put(0x3A)
                if i == 0 { put(0x3A) }
                i += best.count
                if i == 8 { return }
                continue
            }
            // An IPv4-compatible or -mapped address ends in dotted quad, as inet_ntop writes it.
            if i == 6, best.start == 0, best.count == 6 || (best.count == 5 && group(5) == 0xFFFF) {
                ipv4(UInt32(group(6)) << 16 | UInt32(group(7)))
                return
            }
            hex(group(i))
            i += 1
            if i < 8 { put(0x3A) }
        }
    }
}

private extension IPAddress {
    func write(into cursor: inout TextCursor) {
        switch self {
        case .v4(let raw): cursor.ipv4(UInt32(bigEndian: raw))
        case .v6(let hi, let lo): cursor.ipv6(hi, lo)
        }
    }
}
