/// What an authoritative lookup puts in a response.
public struct AuthoritativeAnswer: Equatable, Sendable {
    public var rcode = RCode.noError
    public var authoritative = true
    public var answer: [ResourceRecord] = []
    public var authority: [ResourceRecord] = []
    public var additional: [ResourceRecord] = []
}

/// Answers from the zones this server holds, as RFC 1034 4.3.2 describes (with RFC 2308
/// negative answers and RFC 4592 wildcards), the way CoreDNS's file plugin classifies a
/// lookup: answer, CNAME to follow, no data, no such name, or a referral.
public struct Authority: Sendable {
    public let zones: [Zone]

    /// How many CNAMEs a chain may have before the answer stops at the last one.
    static let maxChain = 8

    public init(zones: [Zone]) {
        self.zones = zones.sorted { $0.origin.labels.count > $1.origin.labels.count }
    }

    /// The deepest zone that contains `name`.
    public func zone(for name: DNSName) -> Zone? {
        zones.first { name.isSubdomain(of: $0.origin) }
    }

    /// The zone that answers `type` at `name`: the deepest that contains it, except that DS
    /// lives on the parent side of a cut (RFC 4035 3.1.4.1), so at a child's apex the
    /// parent answers when we hold it too (as NSD does); else the child, with no data.
    func zone(for name: DNSName, type: RRType) -> Zone? {
        guard let deepest = zone(for: name) else { return nil }
        guard type == .ds, deepest.origin == name, !name.labels.isEmpty else { return deepest }
        return zone(for: name.parent) ?? deepest
    }

    private enum Step {
        case records([ResourceRecord])
        case cname(ResourceRecord, target: DNSName)
        case noData
        case nxDomain
        case referral([ResourceRecord])
    }

    /// The answer for a question about a name in our zones; nil when no zone holds it.
    public func answer(_ question: DNSMessage.Question) -> AuthoritativeAnswer? {
        guard var zone = zone(for: question.name, type: question.type) else { return nil }
        var result = AuthoritativeAnswer()
        var name = question.name
        var seen: Set<DNSName> = [name]
        chain: for _ in 0...Authority.maxChain {
            switch resolve(name, question.type, in: zone) {
            case .records(let records):
                result.answer += records
                break chain
            case .cname(let record, let target):
                result.answer.append(record)
                // A loop, or a target outside our zones: the client's resolver takes it from here.
                guard seen.insert(target).inserted, let next = self.zone(for: target, type: question.type) else { break chain }
                name = target
                zone = next
            case .noData:
                result.authority = [zone.negativeSOA]
                break chain
            case .nxDomain:
                result.rcode = .nxDomain
                result.authority = [zone.negativeSOA]
                break chain
            case .referral(let servers):
                result.authoritative = !result.answer.isEmpty
                result.authority = servers
                result.additional = addresses(for: servers)
                return result
            }
        }
        result.additional = addresses(for: result.answer).filter { !result.answer.contains($0) }
        return result
    }

    private func resolve(_ name: DNSName, _ type: RRType, in zone: Zone) -> Step {
        // A zone cut between the apex and the name hands the question to the child's servers;
        // a DS at the cut itself is the parent's to answer.
        let apexDepth = zone.origin.labels.count
        let deepestCut = type == .ds ? name.labels.count - 1 : name.labels.count
        if deepestCut > apexDepth {
            for depth in (apexDepth + 1)...deepestCut {
                let cut = DNSName(labels: Array(name.labels.suffix(depth)))
                if let servers = zone.rrsets(at: cut)?[.ns] { return .referral(servers) }
            }
        }
        if let node = zone.rrsets(at: name) { return answer(from: node, owner: name, type: type) }
        if zone.exists(name) { return .noData }
        var encloser = name.parent
        while !zone.exists(encloser) && encloser != zone.origin { encloser = encloser.parent }
        if let wildcard = zone.rrsets(at: encloser.prepending([UInt8(ascii: "*")])) {
            return answer(from: wildcard, owner: name, type: type)
        }
        return .nxDomain
    }

    /// Records of `type` at a node, renamed to `owner` (the query's spelling, or the name a
    /// wildcard stands for).
    private func answer(from node: [RRType: [ResourceRecord]], owner: DNSName, type: RRType) -> Step {
        func renamed(_ records: [ResourceRecord]) -> [ResourceRecord] {
            records.map { record in
                var copy = record
                copy.name = owner
                return copy
            }
        }
        if type == .any {
            return .records(renamed(node.keys.sorted { $0.rawValue < $1.rawValue }.flatMap { node[$0] ?? [] }))
        }
        if let records = node[type] { return .records(renamed(records)) }
        if let cname = node[.cname]?.first, case .cname(let target) = cname.data {
            return .cname(renamed([cname])[0], target: target)
        }
        return .noData
    }

    /// A and AAAA records we hold for the names that NS, MX and SRV records point at.
    private func addresses(for records: [ResourceRecord]) -> [ResourceRecord] {
        var out: [ResourceRecord] = []
        var done: Set<DNSName> = []
        for target in records.compactMap(\.data.target) where done.insert(target).inserted {
            guard let node = zone(for: target)?.rrsets(at: target) else { continue }
            out += (node[.a] ?? []) + (node[.aaaa] ?? [])
        }
        return out
    }
}
