import ServerCore
/// Accept-Encoding negotiation (RFC 9110 12.5.3), for the one coding we produce.
public enum AcceptEncoding {
    /// Whether `header` accepts gzip: an explicit `gzip`/`x-gzip` entry decides by its
    /// q-value (`gzip;q=0` means no), otherwise a `*` entry does; no header means no.
    public static func allowsGzip(_ header: String?) -> Bool {
        guard let header else { return false }
        var wildcard: Double?
        for entry in header.split(separator: ",") {
            let fields = entry.split(separator: ";").map { $0.trimmingBlanks.lowercased() }
            guard let coding = fields.first, !coding.isEmpty else { continue }
            let q = fields.dropFirst().lazy.compactMap(qValue).first ?? 1
            if coding == "gzip" || coding == "x-gzip" { return q > 0 }
            if coding == "*" { wildcard = q }
        }
        return (wildcard ?? 0) > 0
    }

    private static func qValue(_ parameter: String) -> Double? {
        let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingBlanks }
        guard pair.count == 2, pair[0] == "q", let q = Double(pair[1]), (0...1).contains(q) else { return nil }
        return q
    }
}
