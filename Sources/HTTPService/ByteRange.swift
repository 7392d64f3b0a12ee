import ServerCore
/// `Range: bytes=...` (RFC 9110 14.2) against a representation of known length.
public enum ByteRange: Equatable, Sendable {
    /// Serve the whole representation with 200: no Range, one we ignore (syntax we do not
    /// understand, too many parts) or several parts that do not merge into one.
    case full
    /// One range, as offset and length.
    case partial(offset: Int64, length: Int64)
    /// No part overlaps the representation: 416.
    case unsatisfiable

    /// More parts than this is a sign of abuse (CVE-2011-3192), answered with the whole file.
    static let maxParts = 16

    public init(header: String?, length: Int64) {
        guard let header else {
            self = .full
            return
        }
        let trimmed = Substring(header).trimmingBlanks
        guard trimmed.lowercased().hasPrefix("bytes=") else {
            self = .full
            return
        }
        let specs = trimmed.dropFirst(6).split(separator: ",", omittingEmptySubsequences: false).map(\.trimmingBlanks)
        guard specs.count <= ByteRange.maxParts else {
            self = .full
            return
        }
        var ranges: [ClosedRange<Int64>] = []
        for spec in specs {
            switch ByteRange.parse(spec, length: length) {
            case .malformed:
                self = .full
                return
            case .outside:
                continue
            case .inside(let range):
                ranges.append(range)
            }
        }
        guard !ranges.isEmpty else {
            self = .unsatisfiable
            return
        }
        ranges.sort { $0.lowerBound < $1.lowerBound }
        var merged = ranges[0]
        for range in ranges.dropFirst() {
            guard range.lowerBound <= merged.upperBound + 1 else {
                self = .full
                return
            }
            merged = merged.lowerBound...max(merged.upperBound, range.upperBound)
        }
        self = .partial(offset: merged.lowerBound, length: merged.upperBound - merged.lowerBound + 1)
    }

    private enum Spec {
        case malformed, outside, inside(ClosedRange<Int64>)
    }

    private static func parse(_ spec: Substring, length: Int64) -> Spec {
        guard let dash = spec.firstIndex(of: "-") else { return .malformed }
        let first = spec[..<dash], last = spec[spec.index(after: dash)...]
        guard first.allSatisfy(\.isASCIIDigit), last.allSatisfy(\.isASCIIDigit), first.count <= 18, last.count <= 18 else {
            return .malformed
        }
        if first.isEmpty {
            guard let suffix = Int64(last) else { return .malformed }
            guard suffix > 0, length > 0 else { return .outside }
            return .inside(max(0, length - suffix)...(length - 1))
        }
        guard let start = Int64(first) else { return .malformed }
        let end = last.isEmpty ? length - 1 : Int64(last) ?? -1
        if !last.isEmpty && end < start { return .malformed }
        guard start < length else { return .outside }
        return .inside(start...min(end, length - 1))
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
