/// A zone written as a master file that `ZoneFileParser` reads back exactly: every record
/// in RFC 3597's generic form (`\# LENGTH HEX`), whatever its type, names absolute. How a
/// secondary keeps its copy in DATA/dns.
extension Zone {
    public func masterFile(comment: String) -> [UInt8] {
        var text = Array("; \(comment)\n".utf8)
        let owners = nodes.keys.sorted { $0 == origin || ($1 != origin && $0.description < $1.description) }
        for owner in owners {
            guard let rrsets = nodes[owner] else { continue }
            for type in rrsets.keys.sorted(by: { ($0 == .soa ? -1 : Int($0.rawValue)) < ($1 == .soa ? -1 : Int($1.rawValue)) }) {
                for record in rrsets[type] ?? [] { Zone.append(record, to: &text) }
            }
        }
        return text
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func append(_ record: ResourceRecord, to text: inout [UInt8]) {
        var writer = WireWriter(compressing: false)
        // Every record was checked to encode when the zone was built.
        guard (try? record.data.encode(into: &writer, as: record.type)) != nil else { return }
        text += Array("\(record.name) \(record.ttl) IN TYPE\(record.type.rawValue) \\# \(writer.count)".utf8)
        if writer.count > 0 { text.append(UInt8(ascii: " ")) }
        for byte in writer.bytes {
            text.append(hexDigits[Int(byte >> 4)])
            text.append(hexDigits[Int(byte & 0xF)])
        }
        text.append(UInt8(ascii: "\n"))
    }
}
