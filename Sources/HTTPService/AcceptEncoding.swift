import ServerCore
/// Accept-Encoding negotiation (RFC 9110 12.5.3), for the one coding we produce.
public enum AcceptEncoding {
    /// Whether `header` accepts gzip: an explicit `gzip`/`x-gzip` entry decides by its
    /// q-value (`gzip;q=0` means no), otherwise a `*` entry does; no header means no.
    public static func allowsGzip(_ header: String?) -> Bool {
        guard let header else { return false }
        var wildcard: Int?
        for entry in header.split(separator: ",") {
            let fields = entry.split(separator: ";").map { $0.trimmingBlanks.lowercased() }
            guard let coding = fields.first, !coding.isEmpty else { continue }
            let q = fields.dropFirst().lazy.compactMap(qValue).first ?? 1000
            if coding == "gzip" || coding == "x-gzip" { return q > 0 }
            if coding == "*" { wildcard = q }
        }
        return (wildcard ?? 0) > 0
    }

    /// `q=` as thousandths by RFC 9110's grammar (`0`, `0.5`, `1.000`: at most three
    /// decimals), nil for another parameter. A malformed q is 0, as nginx takes it: the
    /// coding is not sent on a guess. (`Double(_:)` would take `-0`, `1e0` or `nan`.)
    private static func qValue(_ parameter: String) -> Int? {
        let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map { $0.trimmingBlanks }
        guard pair.count == 2, pair[0] == "q" else { return nil }
        let parts = pair[1].split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, whole == "0" || whole == "1" else { return 0 }
        let fraction = parts.count == 2 ? parts[1].utf8 : Substring().utf8
        guard fraction.count <= 3, let digits = fraction.isEmpty ? 0 : StrictNumber.decimal(fraction, as: UInt16.self) else { return 0 }
        let thousandths = Int(digits) * [1, 100, 10, 1][fraction.count]
        if whole == "1" { return thousandths == 0 ? 1000 : 0 }
        return thousandths
    }
}
