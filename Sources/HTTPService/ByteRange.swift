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
        guard let dash = spec.utf8.firstIndex(of: 0x2D) else { return .malformed }
        let first = spec.utf8[..<dash], last = spec.utf8[spec.utf8.index(after: dash)...]
        if first.isEmpty {
            guard let suffix = position(last) else { return .malformed }
            guard suffix > 0, length > 0 else { return .outside }
            return .inside(max(0, length - suffix)...(length - 1))
        }
        guard let start = position(first) else { return .malformed }
        var end = length - 1
        if !last.isEmpty {
            guard let given = position(last), given >= start else { return .malformed }
            end = min(given, end)
        }
        guard start < length else { return .outside }
        return .inside(start...end)
    }

    /// A byte position: digits only (`Int64(_:)` would take a sign), at most Int64.max.
    private static func position(_ digits: Substring.UTF8View.SubSequence) -> Int64? {
        StrictNumber.decimal(digits, as: UInt64.self, max: UInt64(Int64.max)).map { Int64($0) }
    }
}
