/// Splits a master file (RFC 1035 5.1) into entries: one per record or directive, with
/// parentheses joining lines, `;` comments dropped and quoted strings kept whole.
struct ZoneFileLexer {
    struct Token: Equatable {
        /// The bytes as written, escapes included (names and strings unescape them later).
        var text: [UInt8]
        var quoted: Bool

        var string: String { String(decoding: text, as: UTF8.self) }
    }

    struct Entry {
        let line: Int
        /// The line began with a blank: the owner is the previous record's.
        let ownerOmitted: Bool
        var tokens: [Token]
    }

    struct Failure: Error {
        let line: Int
        let message: String
    }

    static func entries(_ bytes: [UInt8]) throws(Failure) -> [Entry] {
        var entries: [Entry] = []
        var line = 1
        var index = 0
        var depth = 0
        /// Where the outermost open parenthesis is, for the error if it is never closed.
        var openedAt = 0
        var current: Entry?
        var atLineStart = true
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\n"):
                line += 1
                index += 1
                atLineStart = true
                if depth == 0, let entry = current {
                    if !entry.tokens.isEmpty { entries.append(entry) }
                    current = nil
                }
                continue
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                if atLineStart && depth == 0 && current == nil { current = Entry(line: line, ownerOmitted: true, tokens: []) }
                index += 1
            case UInt8(ascii: ";"):
                while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
            case UInt8(ascii: "("):
                if current == nil { current = Entry(line: line, ownerOmitted: false, tokens: []) }
                if depth == 0 { openedAt = line }
                depth += 1
                index += 1
            case UInt8(ascii: ")"):
                guard depth > 0 else { throw Failure(line: line, message: "')' without '('") }
                depth -= 1
                index += 1
            case UInt8(ascii: "\""):
                if current == nil { current = Entry(line: line, ownerOmitted: false, tokens: []) }
                var text: [UInt8] = []
                let quoteLine = line
                index += 1
                while true {
                    guard index < bytes.count else { throw Failure(line: quoteLine, message: "expected a closing '\"'") }
                    let c = bytes[index]
                    if c == UInt8(ascii: "\"") { break }
                    if c == UInt8(ascii: "\n") { line += 1 }
                    if c == UInt8(ascii: "\\") && index + 1 < bytes.count {
                        text.append(c)
                        index += 1
                    }
                    text.append(bytes[index])
                    index += 1
                }
                index += 1
                current?.tokens.append(Token(text: text, quoted: true))
            default:
                if current == nil { current = Entry(line: line, ownerOmitted: false, tokens: []) }
                var text: [UInt8] = []
                while index < bytes.count {
                    let c = bytes[index]
                    if [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"), UInt8(ascii: ";"),
                        UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\"")].contains(c) { break }
                    if c == UInt8(ascii: "\\") && index + 1 < bytes.count {
                        text.append(c)
                        index += 1
                    }
                    text.append(bytes[index])
                    index += 1
                }
                current?.tokens.append(Token(text: text, quoted: false))
            }
            atLineStart = false
        }
        guard depth == 0 else { throw Failure(line: openedAt, message: "expected ')' to close this '(' before the end of the file") }
        if let entry = current, !entry.tokens.isEmpty { entries.append(entry) }
        return entries
    }
}
