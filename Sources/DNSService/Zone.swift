/// One zone's data, indexed for lookups: owner → type → RRset.
public struct Zone: Sendable {
    public let origin: DNSName
    public let soa: ResourceRecord
    private(set) var nodes: [DNSName: [RRType: [ResourceRecord]]] = [:]
    /// Every owner and each of its ancestors down to the origin, so that empty
    /// non-terminals answer NODATA rather than NXDOMAIN.
    private var existing: Set<DNSName> = []

    public struct Invalid: Error {
        public let message: String
        /// The index of the record at fault in the records given, so the file parser can
        /// name its file and line; nil when no one record is (a zone without SOA).
        public let record: Int?
    }

    /// Builds the zone, checking what BIND checks: one SOA at the apex, every owner
    /// inside the zone, nothing beside a CNAME.
    public init(origin: DNSName, records: [ResourceRecord]) throws(Invalid) {
        self.origin = origin
        var soa: ResourceRecord?
        for (index, var record) in records.enumerated() {
            guard record.name.isSubdomain(of: origin) else {
                throw Invalid(message: "\(record.name) is outside the zone \(origin)", record: index)
            }
            if record.type == .soa {
                guard record.name == origin else {
                    throw Invalid(message: "SOA record for \(record.name) is not at the zone apex \(origin)", record: index)
                }
                guard soa == nil else { throw Invalid(message: "more than one SOA record", record: index) }
                soa = record
            }
            var types = nodes[record.name] ?? [:]
            if record.type == .cname ? types.contains(where: { $0.key != .cname }) : types[.cname] != nil {
                throw Invalid(message: "\(record.name) has a CNAME and other data", record: index)
            }
            var rrset = types[record.type] ?? []
            guard !rrset.contains(where: { $0.data == record.data }) else { continue }
            // One TTL per RRset (RFC 2181 5.2): the lowest given.
            if let first = rrset.first, first.ttl != record.ttl {
                let ttl = min(first.ttl, record.ttl)
                rrset = rrset.map { var r = $0; r.ttl = ttl; return r }
                record.ttl = ttl
            }
            rrset.append(record)
            types[record.type] = rrset
            nodes[record.name] = types
            var name = record.name
            while existing.insert(name).inserted && name != origin { name = name.parent }
        }
        guard let soa else { throw Invalid(message: "no SOA record at the zone apex \(origin)", record: nil) }
        self.soa = soa
    }

    /// How many records the zone holds, the SOA with them.
    public var recordCount: Int { nodes.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.count } } }

    func rrsets(at name: DNSName) -> [RRType: [ResourceRecord]]? { nodes[name] }

    func exists(_ name: DNSName) -> Bool { existing.contains(name) }

    /// The SOA for a negative answer, its TTL the lesser of its own and its MINIMUM (RFC 2308 5).
    var negativeSOA: ResourceRecord {
        var record = soa
        if case .soa(let data) = soa.data { record.ttl = min(soa.ttl, data.minimum) }
        return record
    }
}
