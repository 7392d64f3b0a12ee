import ServerCore

/// Turns a request path into the segments of a file below the site root, or a refusal.
///
/// Percent-decoding happens once, before splitting, so `%2e%2e` and `%2f` are ordinary
/// `..` and `/`: `..` can then only pop segments already seen and never climbs above the
/// root (as Go's `path.Clean("/" + name)`). Symlinks are the file opener's business.
public enum RequestPath: Equatable, Sendable {
    /// The path below the root, segments joined by `/` without a leading one (`""` is the
    /// root itself); `directorySyntax` when the request ended in `/` (or `.`, `..`).
    case file(relative: String, directorySyntax: Bool)
    /// Malformed: bad percent-escape, NUL, backslash or invalid UTF-8 (400).
    case invalid
    /// Names a dotfile such as `.git` or `.env` (404).
    case hidden

    public init(_ rawPath: Substring) {
        let raw = rawPath.utf8
        if let simple = RequestPath.simple(raw) {
            self = simple
            return
        }
        guard let decoded = raw.contains(0x25) ? RequestPath.percentDecode(raw) : Array(raw),
              !decoded.contains(0), !decoded.contains(0x5C) else {
            self = .invalid
            return
        }
        var out: [UInt8] = []
        out.reserveCapacity(decoded.count)
        var starts: [Int] = []
        var lastWasDirectory = true
        for segment in decoded.split(separator: 0x2F, omittingEmptySubsequences: false) {
            lastWasDirectory = segment.isEmpty || segment.elementsEqual(".".utf8) || segment.elementsEqual("..".utf8)
            if segment.elementsEqual("..".utf8), let start = starts.popLast() {
                out.removeSubrange(max(0, start - 1)...)
            }
            if lastWasDirectory { continue }
            if segment.first == 0x2E && !segment.elementsEqual(".well-known".utf8) {
                self = .hidden
                return
            }
            if !out.isEmpty { out.append(0x2F) }
            starts.append(out.count)
            out.append(contentsOf: segment)
        }
        guard let relative = String(validating: out, as: UTF8.self) else {
            self = .invalid
            return
        }
        self = .file(relative: relative, directorySyntax: lastWasDirectory)
    }

    /// The common path, `/` and then plain segments (no escape, no dot at a segment's start,
    /// no empty segment but a final one, no NUL or backslash), taken as it is: the general
    /// rules below give the same answer for it. Nil for anything else.
    private static func simple(_ raw: Substring.UTF8View) -> RequestPath? {
        guard raw.first == 0x2F, raw.count > 1 else { return nil }
        var previous: UInt8 = 0x2F
        for byte in raw.dropFirst() {
            switch byte {
            case 0x25, 0x00, 0x5C: return nil
            case 0x2E where previous == 0x2F: return nil
            case 0x2F where previous == 0x2F: return nil
            case 0x80...: return nil
            default: previous = byte
            }
        }
        let directory = previous == 0x2F
        let relative = raw.dropFirst().dropLast(directory ? 1 : 0)
        return .file(relative: String(Substring(relative)), directorySyntax: directory)
    }

    static func percentDecode(_ bytes: Substring.UTF8View) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var iterator = bytes.makeIterator()
        while let byte = iterator.next() {
            guard byte == 0x25 else {
                out.append(byte)
                continue
            }
            guard let high = iterator.next()?.hexDigitValue, let low = iterator.next()?.hexDigitValue else { return nil }
            out.append(high << 4 | low)
        }
        return out
    }

    /// A relative path as an absolute URL path, each segment percent-encoded, for a Location header.
    public static func encode(_ relative: String) -> String {
        var out = ""
        for segment in relative.split(separator: "/") {
            out += "/"
            for byte in segment.utf8 {
                switch byte {
                case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F, 0x7E:
                    out.unicodeScalars.append(Unicode.Scalar(byte))
                default:
                    out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
                }
            }
        }
        return out.isEmpty ? "/" : out
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
