/// The configuration file: `key = value` lines, `#` comments (also after a value). A key
/// that takes a list may repeat or hold commas; any other key given twice is an error, since
/// one of the two lines would be silently ignored. Every key is also a flag of the same name.
public struct ConfigFile: Sendable {
    public struct Entry: Sendable {
        public let key: String
        public let value: String
        public let line: Int
    }

    public struct SyntaxError: Error, CustomStringConvertible {
        public let path: String
        public let line: Int
        public let message: String
        public var description: String { "\(path):\(line): \(message)" }
    }

    public let path: String
    public let entries: [Entry]

    public init(path: String, text: String, knownKeys: Set<String>, listKeys: Set<String> = []) throws(SyntaxError) {
        self.path = path
        var entries: [Entry] = []
        var firstLine: [String: Int] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.prefix { $0 != "#" }.trimmingBlanks
            guard !line.isEmpty else { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw SyntaxError(path: path, line: index + 1, message: "expected 'key = value'")
            }
            let key = line[..<equals].trimmingBlanks
            let value = line[line.index(after: equals)...].trimmingBlanks
            guard knownKeys.contains(String(key)) else {
                let message = ConfigFile.nearest(String(key), in: knownKeys).map { "unknown key '\(key)'; did you mean '\($0)'?" }
                    ?? "unknown key '\(key)' (known: \(knownKeys.sorted().joined(separator: ", ")))"
                throw SyntaxError(path: path, line: index + 1, message: message)
            }
            guard !value.isEmpty else { throw SyntaxError(path: path, line: index + 1, message: "expected a value for '\(key)'") }
            if let first = firstLine[String(key)], !listKeys.contains(String(key)) {
                throw SyntaxError(path: path, line: index + 1, message: "'\(key)' is already set on line \(first); give it once")
            }
            firstLine[String(key)] = index + 1
            entries.append(Entry(key: String(key), value: String(value), line: index + 1))
        }
        self.entries = entries
    }

    /// The known key closest to a mistyped one (at most two edits away), as a mistyped flag gets.
    static func nearest(_ key: String, in known: Set<String>) -> String? {
        func distance(_ a: [UInt8], _ b: [UInt8]) -> Int {
            var row = Array(0...b.count)
            for (i, x) in a.enumerated() {
                var previous = row[0]
                row[0] = i + 1
                for (j, y) in b.enumerated() {
                    let substitution = previous + (x == y ? 0 : 1)
                    previous = row[j + 1]
                    row[j + 1] = min(substitution, row[j] + 1, row[j + 1] + 1)
                }
            }
            return row[b.count]
        }
        let typed = Array(key.utf8.prefix(64))
        let scored = known.map { ($0, distance(typed, Array($0.utf8))) }.filter { $0.1 <= 2 }
        return scored.min { ($0.1, $0.0) < ($1.1, $1.0) }?.0
    }

    /// The last value given for `key`.
    public func value(_ key: String) -> Entry? { entries.last { $0.key == key } }

    /// Every value given for `key`, comma lists split.
    public func list(_ key: String) -> [String] {
        entries.filter { $0.key == key }.flatMap { $0.value.split(separator: ",").map { String($0.trimmingBlanks) } }
    }
}
