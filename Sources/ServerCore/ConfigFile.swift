/// The configuration file: `key = value` lines, `#` comments. A key that takes a list
/// may repeat or hold commas. Every key is also a flag of the same name.
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

    public init(path: String, text: String, knownKeys: Set<String>) throws(SyntaxError) {
        self.path = path
        var entries: [Entry] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.prefix { $0 != "#" }.trimmingBlanks
            guard !line.isEmpty else { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw SyntaxError(path: path, line: index + 1, message: "expected 'key = value'")
            }
            let key = line[..<equals].trimmingBlanks
            let value = line[line.index(after: equals)...].trimmingBlanks
            guard knownKeys.contains(String(key)) else {
                throw SyntaxError(path: path, line: index + 1,
                                  message: "unknown key '\(key)' (known: \(knownKeys.sorted().joined(separator: ", ")))")
            }
            guard !value.isEmpty else { throw SyntaxError(path: path, line: index + 1, message: "expected a value for '\(key)'") }
            entries.append(Entry(key: String(key), value: String(value), line: index + 1))
        }
        self.entries = entries
    }

    /// The last value given for `key`.
    public func value(_ key: String) -> Entry? { entries.last { $0.key == key } }

    /// Every value given for `key`, comma lists split.
    public func list(_ key: String) -> [String] {
        entries.filter { $0.key == key }.flatMap { $0.value.split(separator: ",").map { String($0.trimmingBlanks) } }
    }
}
