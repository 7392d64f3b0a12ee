import ServerCore

/// Reads BIND-style master files (RFC 1035 5): `$ORIGIN`, `$TTL`, `$INCLUDE`, parentheses,
/// comments, `@`, relative names, omitted owner/TTL/class, TTL units, quoted strings and
/// RFC 3597 unknown types. Errors name the file and line and say what was expected.
public struct ZoneFileParser {
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let file: String
        public let line: Int
        public let message: String
        public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
    }

    /// How deep `$INCLUDE` may nest.
    static let maxIncludeDepth = 8

    /// A zone read from the zones folder, and the files it `$INCLUDE`d (as written).
    public struct Loaded {
        public let zone: Zone
        public let included: Set<String>
    }

    /// Loads the file `name` in the zones folder as a zone. Without `$ORIGIN`, the origin
    /// is the file's name less `.zone`.
    public static func load(_ name: String, in folder: ZoneFolder) throws(Failure) -> Loaded {
        let path = folder.display(name)
        let base = name.hasSuffix(".zone") ? String(name.dropLast(5)) : name
        guard let origin = DNSName(base.hasSuffix(".") ? base : base + ".") else {
            throw Failure(file: path, line: 0, message: "the file name does not make a valid zone name")
        }
        var parser = ZoneFileParser(folder: folder)
        let records: [ResourceRecord]
        switch folder.readZone(name) {
        case .success(let bytes): records = try parser.records(bytes: bytes, file: path, origin: origin, depth: 0)
        case .failure(let error): throw Failure(file: path, line: 0, message: "cannot read the file: \(error)")
        }
        // The apex is where the SOA is: the file's name unless an $ORIGIN moved it.
        let apex = records.first { $0.type == .soa }?.name ?? origin
        do {
            return Loaded(zone: try Zone(origin: apex, records: records), included: parser.included)
        } catch {
            // Each record's file and line, so that every zone error points at its line.
            let source = error.record.flatMap { $0 < parser.sources.count ? parser.sources[$0] : nil }
            throw Failure(file: source?.file ?? path, line: source?.line ?? 0, message: error.message)
        }
    }

    /// Parses text as one file would be; `include` reads an `$INCLUDE`d file.
    public static func parse(_ text: String, file: String = "zone", origin: DNSName,
                             include: @escaping (String) -> [UInt8]? = { _ in nil }) throws(Failure) -> [ResourceRecord] {
        var parser = ZoneFileParser(folder: nil, reader: include)
        return try parser.records(bytes: Array(text.utf8), file: file, origin: origin, depth: 0)
    }

    private let folder: ZoneFolder?
    private let reader: ((String) -> [UInt8]?)?
    private var defaultTTL: UInt32?
    private var lastOwner: DNSName?
    private var lastTTL: UInt32?
    /// Where each record came from, in the order of the records returned.
    private var sources: [(file: String, line: Int)] = []
    private var included: Set<String> = []

    private init(folder: ZoneFolder?, reader: ((String) -> [UInt8]?)? = nil) {
        self.folder = folder
        self.reader = reader
    }

    private mutating func records(bytes: [UInt8], file: String, origin start: DNSName, depth: Int) throws(Failure) -> [ResourceRecord] {
        let entries: [ZoneFileLexer.Entry]
        do {
            entries = try ZoneFileLexer.entries(bytes)
        } catch {
            throw Failure(file: file, line: error.line, message: error.message)
        }
        var origin = start
        var records: [ResourceRecord] = []
        for entry in entries {
            func fail(_ message: String) -> Failure { Failure(file: file, line: entry.line, message: message) }
            let first = entry.tokens[0]
            switch entry.ownerOmitted ? "" : first.string.uppercased() {
            case "$ORIGIN":
                guard entry.tokens.count == 2, let name = DNSName(presentation: entry.tokens[1].text, origin: origin) else {
                    throw fail("expected '$ORIGIN name'")
                }
                origin = name
            case "$TTL":
                guard entry.tokens.count == 2, let ttl = TTLValue.parse(entry.tokens[1].string) else {
                    throw fail("expected '$TTL ttl' (e.g. 3600 or 1h)")
                }
                defaultTTL = ttl
            case "$INCLUDE":
                guard entry.tokens.count == 2 || entry.tokens.count == 3 else { throw fail("expected '$INCLUDE file [origin]'") }
                var includeOrigin = origin
                if entry.tokens.count == 3 {
                    guard let name = DNSName(presentation: entry.tokens[2].text, origin: origin) else { throw fail("expected an origin name") }
                    includeOrigin = name
                }
                guard depth + 1 < ZoneFileParser.maxIncludeDepth else { throw fail("$INCLUDE nested more than \(ZoneFileParser.maxIncludeDepth) deep") }
                records += try include(entry.tokens[1].string, origin: includeOrigin, depth: depth + 1, fail: fail)
            case let directive where directive.hasPrefix("$"):
                throw fail("unknown directive '\(first.string)' (expected $ORIGIN, $TTL or $INCLUDE)")
            default:
                records.append(try record(entry, origin: origin, fail: fail))
                sources.append((file, entry.line))
            }
        }
        return records
    }

    /// An included file is named relative to the zones folder and must lie inside it,
    /// symlinks resolved (the folder's descriptor is opened beneath by the kernel).
    private mutating func include(_ name: String, origin: DNSName, depth: Int, fail: (String) -> Failure) throws(Failure) -> [ResourceRecord] {
        if let reader {
            guard let bytes = reader(name) else { throw fail("cannot read included file '\(name)'") }
            return try records(bytes: bytes, file: name, origin: origin, depth: depth)
        }
        guard let folder else { throw fail("$INCLUDE is not allowed here") }
        let bytes: [UInt8]
        switch folder.readIncluded(name) {
        case .success(let read): bytes = read
        case .failure(.outside): throw fail("$INCLUDE '\(name)' is outside the zones folder")
        case .failure(.failed(let error)): throw fail("cannot read included file '\(name)': \(error)")
        }
        included.insert(name)
        let saved = (lastOwner, lastTTL)
        defer { (lastOwner, lastTTL) = saved }
        return try records(bytes: bytes, file: folder.display(name), origin: origin, depth: depth)
    }

    private mutating func record(_ entry: ZoneFileLexer.Entry, origin: DNSName, fail: (String) -> Failure) throws(Failure) -> ResourceRecord {
        var tokens = entry.tokens[...]
        let owner: DNSName
        if entry.ownerOmitted {
            guard let lastOwner else { throw fail("expected an owner name (there is no previous record to repeat)") }
            owner = lastOwner
        } else {
            let token = tokens.removeFirst()
            guard !token.quoted, let name = DNSName(presentation: token.text, origin: origin) else {
                throw fail("expected an owner name, got '\(token.string)'")
            }
            owner = name
        }
        var ttl: UInt32?
        var sawClass = false
        var type: RRType?
        while type == nil, let token = tokens.popFirst() {
            let text = token.string
            if ttl == nil, let first = text.first, first.isNumber, let value = TTLValue.parse(text) {
                ttl = value
            } else if !sawClass && text.uppercased() == "IN" {
                sawClass = true
            } else if !sawClass && ["CH", "HS", "CS"].contains(text.uppercased()) {
                throw fail("class \(text.uppercased()) is not served (expected IN)")
            } else if let parsed = RRType(mnemonic: text), parsed.isZoneData {
                type = parsed
            } else {
                throw fail("expected a TTL, class or record type, got '\(text)'")
            }
        }
        guard let type else { throw fail("expected a record type") }
        let data: RData
        do {
            data = try RDataParser.parse(type, tokens, origin: origin)
        } catch {
            throw fail(error.message)
        }
        // Refused here rather than met by the first query for it.
        guard let length = try? data.uncompressedLength(as: type) else { throw fail("expected \(type) data that can be encoded") }
        guard length <= DNSMessage.maxSize else { throw fail("expected at most \(DNSMessage.maxSize) octets of \(type) data, got \(length)") }
        // RFC 2308: $TTL; before it, BIND falls back to the last TTL given, then the SOA minimum.
        var resolvedTTL = ttl ?? defaultTTL ?? lastTTL
        if resolvedTTL == nil, case .soa(let soa) = data { resolvedTTL = soa.minimum }
        guard let finalTTL = resolvedTTL else { throw fail("expected a TTL (no $TTL given before this record)") }
        lastOwner = owner
        lastTTL = finalTTL
        return ResourceRecord(name: owner, type: type, ttl: finalTTL, data: data)
    }
}
