/// Addresses and numbers written straight into a byte buffer, for access lines (two
/// addresses a line): no String, no inet_ntop. IPv6 is written as inet_ntop writes it
/// (RFC 5952: lowercase, no leading zeros, the longest run of two or more zero groups as
/// `::`, the first of equal runs) so a line reads the same whichever way it was made.
enum AddressText {
    static func appendDecimal(_ value: UInt64, to text: inout [UInt8]) {
        var divisor: UInt64 = 1
        while divisor <= value / 10 { divisor *= 10 }
        while divisor > 0 {
            text.append(UInt8(truncatingIfNeeded: 0x30 + value / divisor % 10))
            divisor /= 10
        }
    }

    /// `1.2.3.4:53` or `[2001:db8::1]:53`.
    static func append(_ address: SocketAddress, to text: inout [UInt8]) {
        if address.ip.isIPv6 { text.append(0x5B) }
        append(address.ip, to: &text)
        if address.ip.isIPv6 { text.append(0x5D) }
        text.append(0x3A)
        appendDecimal(UInt64(address.port), to: &text)
    }

    static func append(_ ip: IPAddress, to text: inout [UInt8]) {
        switch ip {
        case .v4(let raw): appendIPv4(UInt32(bigEndian: raw), to: &text)
        case .v6(let hi, let lo): appendIPv6(hi, lo, to: &text)
        }
    }

    /// `address` in host byte order.
    private static func appendIPv4(_ address: UInt32, to text: inout [UInt8]) {
        for shift in stride(from: 24, through: 0, by: -8) {
            if shift < 24 { text.append(0x2E) }
            appendDecimal(UInt64(address >> UInt32(shift) & 0xFF), to: &text)
        }
    }

    /// `hi` and `lo`: the address's bytes as stored (network order), loaded as two words.
    private static func appendIPv6(_ hi: UInt64, _ lo: UInt64, to text: inout [UInt8]) {
        var groups: [UInt16] = []
        groups.reserveCapacity(8)
        for half in [hi, lo] {
            withUnsafeBytes(of: half) { bytes in
                for i in stride(from: 0, to: 8, by: 2) { groups.append(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])) }
            }
        }
        var best = (start: -1, count: 0), run = (start: -1, count: 0)
        for (i, group) in groups.enumerated() {
            guard group == 0 else {
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
                text.append(0x3A)
                if i == 0 { text.append(0x3A) }
                i += best.count
                if i == 8 { return }
                continue
            }
            // An IPv4-compatible or -mapped address ends in dotted quad, as inet_ntop writes it.
            if i == 6, best.start == 0, best.count == 6 || (best.count == 5 && groups[5] == 0xFFFF) {
                appendIPv4(UInt32(groups[6]) << 16 | UInt32(groups[7]), to: &text)
                return
            }
            appendHex(groups[i], to: &text)
            i += 1
            if i < 8 { text.append(0x3A) }
        }
    }

    private static func appendHex(_ group: UInt16, to text: inout [UInt8]) {
        var started = false
        for shift in stride(from: 12, through: 0, by: -4) {
            let digit = UInt8(group >> UInt16(shift) & 0xF)
            guard started || digit != 0 || shift == 0 else { continue }
            started = true
            text.append(digit < 10 ? 0x30 + digit : 0x57 + digit)
        }
    }
}
