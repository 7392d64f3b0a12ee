import Glibc
import ServerCore

/// Reads RDATA in presentation format (the text after the type in a zone file).
struct RDataParser {
    typealias Token = ZoneFileLexer.Token

    struct Failure: Error {
        let message: String
    }

    var tokens: ArraySlice<Token>
    let origin: DNSName

    static func parse(_ type: RRType, _ tokens: ArraySlice<Token>, origin: DNSName) throws(Failure) -> RData {
        var parser = RDataParser(tokens: tokens, origin: origin)
        let data = try parser.data(type)
        if let extra = parser.tokens.first { throw Failure(message: "unexpected '\(extra.string)' after the \(type) data") }
        return data
    }

    private mutating func data(_ type: RRType) throws(Failure) -> RData {
        if tokens.first?.text == Array("\\#".utf8), tokens.first?.quoted == false {
            tokens.removeFirst()
            return try generic(type)
        }
        switch type {
        case .a: return .a(try address(AF_INET, 4, "an IPv4 address"))
        case .aaaa: return .aaaa(try address(AF_INET6, 16, "an IPv6 address"))
        case .ns: return .ns(try name("a name server"))
        case .cname: return .cname(try name("a canonical name"))
        case .ptr: return .ptr(try name("a name"))
        case .mx: return .mx(preference: try number("a preference"), exchange: try name("a mail exchange"))
        case .txt:
            var strings: [[UInt8]] = []
            while !tokens.isEmpty { strings.append(try characterString()) }
            guard !strings.isEmpty else { throw Failure(message: "expected a text string") }
            return .txt(strings)
        case .soa:
            return .soa(RData.SOA(mname: try name("a primary name server"), rname: try name("a mailbox"),
                                  serial: try number("a serial number"), refresh: try ttl("a refresh time"),
                                  retry: try ttl("a retry time"), expire: try ttl("an expire time"), minimum: try ttl("a minimum TTL")))
        case .srv:
            return .srv(priority: try number("a priority"), weight: try number("a weight"), port: try number("a port"),
                        target: try name("a target"))
        case .caa:
            let flags: UInt8 = try number("CAA flags")
            let tag = try next("a CAA tag").text
            guard !tag.isEmpty, tag.count <= 255, tag.allSatisfy({ ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A || (0x30...0x39).contains($0) }) else {
                throw Failure(message: "expected a CAA tag of letters and digits")
            }
            return .caa(flags: flags, tag: tag, value: try characterString(limit: 65535))
        default:
            throw Failure(message: "expected RFC 3597 '\\#' data for \(type)")
        }
    }

    private mutating func next(_ what: String) throws(Failure) -> Token {
        guard let token = tokens.popFirst() else { throw Failure(message: "expected \(what)") }
        return token
    }

    private mutating func name(_ what: String) throws(Failure) -> DNSName {
        let token = try next(what)
        guard !token.quoted, let name = DNSName(presentation: token.text, origin: origin) else {
            throw Failure(message: "expected \(what), got '\(token.string)'")
        }
        return name
    }

    private mutating func number<T: FixedWidthInteger & UnsignedInteger>(_ what: String, max: T = T.max) throws(Failure) -> T {
        let token = try next(what)
        guard let value = StrictNumber.decimal(token.text, as: T.self, max: max) else {
            throw Failure(message: "expected \(what) (0 to \(max)), got '\(token.string)'")
        }
        return value
    }

    private mutating func ttl(_ what: String) throws(Failure) -> UInt32 {
        let token = try next(what)
        guard let value = TTLValue.parse(token.string) else { throw Failure(message: "expected \(what), got '\(token.string)'") }
        return value
    }

    private mutating func address(_ family: Int32, _ size: Int, _ what: String) throws(Failure) -> [UInt8] {
        let token = try next(what)
        var buffer = [UInt8](repeating: 0, count: 16)
        guard inet_pton(family, token.string, &buffer) == 1 else { throw Failure(message: "expected \(what), got '\(token.string)'") }
        return Array(buffer.prefix(size))
    }

    /// A <character-string>: quoted or not, `\X` and `\DDD` unescaped, at most `limit` octets.
    private mutating func characterString(limit: Int = 255) throws(Failure) -> [UInt8] {
        let token = try next("a text string")
        var bytes = token.text[...]
        var out: [UInt8] = []
        while let byte = bytes.popFirst() {
            if byte == UInt8(ascii: "\\") {
                guard let unescaped = DNSName.unescape(&bytes) else { throw Failure(message: "bad escape in '\(token.string)'") }
                out.append(unescaped)
            } else {
                out.append(byte)
            }
        }
        guard out.count <= limit else {
            throw Failure(message: "expected a text string of at most \(limit) octets (split longer text into several), got \(out.count)")
        }
        return out
    }

    /// RFC 3597: `\# LENGTH HEX...`; data of a known type must also read as that type.
    private mutating func generic(_ type: RRType) throws(Failure) -> RData {
        let length = Int(try number("an RDATA length", max: UInt16.max))
        var hex: [UInt8] = []
        while let token = tokens.popFirst() { hex += token.text }
        guard hex.count == length * 2 else { throw Failure(message: "expected \(length) octets of hex data") }
        var bytes: [UInt8] = []
        var iterator = hex.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let h = high.hexDigitValue, let l = low.hexDigitValue else { throw Failure(message: "expected hex digits") }
            bytes.append(h << 4 | l)
        }
        var reader = WireReader(bytes)
        do {
            return try RData.decode(type, length: bytes.count, from: &reader)
        } catch {
            throw Failure(message: "the \\# data is not valid \(type) data")
        }
    }
}

/// TTLs as a number of seconds or with BIND's units: `3600`, `1h`, `1h30m`, `2d`, `1w`; at
/// most 2^31 - 1 seconds (RFC 2181 8).
enum TTLValue {
    static let max = UInt32(Int32.max)

    static func parse(_ text: String) -> UInt32? {
        if let plain = StrictNumber.decimal(text, as: UInt32.self, max: max) { return plain }
        guard !text.isEmpty else { return nil }
        var total: UInt64 = 0
        var digits: [UInt8] = []
        for byte in text.utf8 {
            if (0x30...0x39).contains(byte) {
                digits.append(byte)
                continue
            }
            let unit: UInt64
            switch byte | 0x20 {
            case UInt8(ascii: "s"): unit = 1
            case UInt8(ascii: "m"): unit = 60
            case UInt8(ascii: "h"): unit = 3600
            case UInt8(ascii: "d"): unit = 86400
            case UInt8(ascii: "w"): unit = 604_800
            default: return nil
            }
            // Each term at most `max` before its unit: the products and the sum stay far inside 64 bits.
            guard let value = StrictNumber.decimal(digits, as: UInt64.self, max: UInt64(max)) else { return nil }
            total += value * unit
            digits = []
            guard total <= UInt64(max) else { return nil }
        }
        guard digits.isEmpty, let seconds = UInt32(exactly: total) else { return nil }
        return seconds
    }
}
