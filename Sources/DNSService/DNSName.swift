/// A domain name as labels of raw bytes, keeping the case it was written in while
/// comparing and hashing without regard to ASCII case (RFC 4343).
public struct DNSName: Hashable, Sendable, CustomStringConvertible {
    public private(set) var labels: [[UInt8]]

    public static let root = DNSName(labels: [])
    static let maxWireLength = 255

    /// Labels from most specific to the root's child: `www.example.com.` is ["www", "example", "com"].
    public init(labels: [[UInt8]]) {
        self.labels = labels
    }

    /// Parses presentation format (`www.example.com.`, with `\.` and `\DDD` escapes);
    /// a name without a final dot is relative to `origin`. Nil when malformed or too long.
    public init?(_ text: String, origin: DNSName? = nil) {
        self.init(presentation: Array(text.utf8), origin: origin)
    }

    init?(presentation: [UInt8], origin: DNSName?) {
        if presentation == [UInt8(ascii: ".")] {
            self = .root
            return
        }
        if presentation == [UInt8(ascii: "@")] {
            guard let origin else { return nil }
            self = origin
            return
        }
        var labels: [[UInt8]] = []
        var current: [UInt8] = []
        var bytes = presentation[...]
        var absolute = false
        while let byte = bytes.popFirst() {
            switch byte {
            case UInt8(ascii: "."):
                guard !current.isEmpty else { return nil }
                labels.append(current)
                current = []
                if bytes.isEmpty { absolute = true }
            case UInt8(ascii: "\\"):
                guard let escaped = DNSName.unescape(&bytes) else { return nil }
                current.append(escaped)
            default:
                current.append(byte)
            }
            if current.count > 63 { return nil }
        }
        if !current.isEmpty { labels.append(current) }
        if !absolute {
            guard let origin else { return nil }
            labels += origin.labels
        }
        self.labels = labels
        guard wireLength <= DNSName.maxWireLength else { return nil }
    }

    /// `\X` or `\DDD` after the backslash; nil when malformed.
    static func unescape(_ bytes: inout ArraySlice<UInt8>) -> UInt8? {
        guard let first = bytes.popFirst() else { return nil }
        guard (0x30...0x39).contains(first) else { return first }
        guard let second = bytes.popFirst(), let third = bytes.popFirst(),
              (0x30...0x39).contains(second), (0x30...0x39).contains(third) else { return nil }
        let value = Int(first - 0x30) * 100 + Int(second - 0x30) * 10 + Int(third - 0x30)
        return value <= 255 ? UInt8(value) : nil
    }

    public var wireLength: Int { labels.reduce(1) { $0 + $1.count + 1 } }

    public var isRoot: Bool { labels.isEmpty }

    /// The name one label up; the root's parent is the root.
    public var parent: DNSName { DNSName(labels: Array(labels.dropFirst())) }

    public func prepending(_ label: [UInt8]) -> DNSName { DNSName(labels: [label] + labels) }

    /// Whether `self` equals `ancestor` or lies below it.
    public func isSubdomain(of ancestor: DNSName) -> Bool {
        guard labels.count >= ancestor.labels.count else { return false }
        return DNSName(labels: Array(labels.suffix(ancestor.labels.count))) == ancestor
    }

    static func lower(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte | 0x20 : byte }

    public static func == (a: DNSName, b: DNSName) -> Bool {
        guard a.labels.count == b.labels.count else { return false }
        for (x, y) in zip(a.labels, b.labels) {
            guard x.count == y.count, zip(x, y).allSatisfy({ lower($0) == lower($1) }) else { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        for label in labels {
            hasher.combine(label.count)
            for byte in label { hasher.combine(DNSName.lower(byte)) }
        }
    }

    public var description: String {
        guard !labels.isEmpty else { return "." }
        var out = ""
        for label in labels {
            for byte in label {
                switch byte {
                case UInt8(ascii: "."), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: ";"),
                     UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "@"), UInt8(ascii: "$"):
                    out += "\\" + String(UnicodeScalar(byte))
                case 0x21...0x7E:
                    out.unicodeScalars.append(UnicodeScalar(byte))
                default:
                    let digits = String(byte)
                    out += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
                }
            }
            out += "."
        }
        return out
    }
}
