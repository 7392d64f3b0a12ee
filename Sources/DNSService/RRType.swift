import ServerCore

/// A resource record type (RFC 1035 3.2.2 and later), with its mnemonic.
public struct RRType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16

    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = RRType(rawValue: 1)
    public static let ns = RRType(rawValue: 2)
    public static let cname = RRType(rawValue: 5)
    public static let soa = RRType(rawValue: 6)
    public static let ptr = RRType(rawValue: 12)
    public static let mx = RRType(rawValue: 15)
    public static let txt = RRType(rawValue: 16)
    public static let aaaa = RRType(rawValue: 28)
    public static let srv = RRType(rawValue: 33)
    public static let ds = RRType(rawValue: 43)
    public static let opt = RRType(rawValue: 41)
    public static let caa = RRType(rawValue: 257)
    public static let ixfr = RRType(rawValue: 251)
    public static let axfr = RRType(rawValue: 252)
    public static let any = RRType(rawValue: 255)

    /// A type a zone may hold: not OPT nor a query-only type (ANY, AXFR, IXFR).
    public var isZoneData: Bool { self != .opt && self != .any && self != .axfr && self != .ixfr }

    private static let names: [UInt16: String] = [
        1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA",
        33: "SRV", 41: "OPT", 43: "DS", 257: "CAA", 251: "IXFR", 252: "AXFR", 255: "ANY",
    ]

    /// `A`, `MX`, ... or RFC 3597's `TYPE123`.
    public init?(mnemonic: String) {
        let upper = mnemonic.uppercased()
        if let known = RRType.names.first(where: { $0.value == upper }) {
            self.init(rawValue: known.key)
        } else if upper.hasPrefix("TYPE"), let value = StrictNumber.decimal(upper.dropFirst(4), as: UInt16.self) {
            self.init(rawValue: value)
        } else {
            return nil
        }
    }

    public var description: String { RRType.names[rawValue] ?? "TYPE\(rawValue)" }
}

/// Classes: only IN is served; ANY is accepted in questions.
public enum DNSClass {
    public static let internet: UInt16 = 1
    public static let chaos: UInt16 = 3
    public static let any: UInt16 = 255
}

/// Response codes (RFC 1035 4.1.1, RFC 6891 for BADVERS).
public enum RCode: UInt16, Sendable {
    case noError = 0
    case formErr = 1
    case servFail = 2
    case nxDomain = 3
    case notImp = 4
    case refused = 5
    case notAuth = 9
    case badVers = 16
}
