import Synchronization

/// The forwarder's records from upstream, keyed by question, with their TTLs counting down
/// (`EncodedResponseCache` holds our whole encoded responses, by query bytes).
///
/// Upstream answers kept for their TTL (RFC 1035 7.4), negative ones for the SOA's
/// negative TTL (RFC 2308 5), in a bounded store that forgets the least recently used.
/// Expired entries are kept a while longer to be served stale if upstream fails (RFC 8767).
public final class UpstreamRecordCache: Sendable {
    public struct Key: Hashable, Sendable {
        public let name: DNSName
        public let type: RRType
        public let qclass: UInt16

        public init(_ question: DNSMessage.Question) {
            name = question.name
            type = question.type
            qclass = question.qclass
        }
    }

    /// An answer as it should be served now: TTLs counted down.
    public struct Answer: Equatable, Sendable {
        public var rcode: UInt16
        public var answer: [ResourceRecord]
        public var authority: [ResourceRecord]
        public var additional: [ResourceRecord]
    }

    private struct Entry {
        let answer: Answer
        let stored: UInt64
        let ttl: UInt32
        var lastUsed: UInt64
    }

    /// Longest any answer is kept (unbound's cache-max-ttl).
    static let maxTTL: UInt32 = 86_400
    /// How long past expiry an answer may still be served stale, and the TTL it is served with.
    static let staleWindow: UInt64 = 86_400
    static let staleTTL: UInt32 = 30

    private let entries = Mutex<[Key: Entry]>([:])
    private let capacity: Int
    private let clock: @Sendable () -> UInt64

    /// The cache's clock now: its TTLs count down in these seconds.
    var now: UInt64 { clock() }

    /// `clock` gives seconds on a monotonic scale (injected so tests need not sleep).
    public init(capacity: Int = 10_000, clock: @escaping @Sendable () -> UInt64) {
        self.capacity = max(1, capacity)
        self.clock = clock
    }

    public var count: Int { entries.withLock { $0.count } }

    /// A fresh answer with TTLs reduced by its age, or nil.
    public func lookup(_ key: Key) -> Answer? {
        let now = clock()
        return entries.withLock { table -> Answer? in
            guard var entry = table[key], now < entry.stored + UInt64(entry.ttl) else { return nil }
            entry.lastUsed = now
            table[key] = entry
            return UpstreamRecordCache.aged(entry.answer, by: UInt32(now - entry.stored), floor: 0)
        }
    }

    /// An expired answer still inside the stale window, served with a short TTL.
    public func stale(_ key: Key) -> Answer? {
        let now = clock()
        return entries.withLock { table -> Answer? in
            guard let entry = table[key], now < entry.stored + UInt64(entry.ttl) + UpstreamRecordCache.staleWindow else { return nil }
            return UpstreamRecordCache.aged(entry.answer, by: UInt32.max, floor: UpstreamRecordCache.staleTTL)
        }
    }

    /// Keeps a NOERROR or NXDOMAIN answer for its TTL; others, and negative answers
    /// without an SOA, are not kept (RFC 2308 5).
    public func store(_ key: Key, _ answer: Answer) {
        guard let ttl = UpstreamRecordCache.ttl(of: answer), ttl > 0 else { return }
        let now = clock()
        entries.withLock { table in
            table[key] = Entry(answer: answer, stored: now, ttl: ttl, lastUsed: now)
            guard table.count > capacity else { return }
            // Forget the least recently used tenth at once, so eviction is rare.
            let victims = table.sorted { $0.value.lastUsed < $1.value.lastUsed }.prefix(max(1, capacity / 10))
            for (victim, _) in victims { table.removeValue(forKey: victim) }
        }
    }

    static func ttl(of answer: Answer) -> UInt32? {
        let ttl: UInt32?
        switch answer.rcode {
        case RCode.noError.rawValue where !answer.answer.isEmpty:
            ttl = answer.answer.map(\.ttl).min()
        case RCode.noError.rawValue, RCode.nxDomain.rawValue:
            ttl = answer.authority.lazy.compactMap { record -> UInt32? in
                guard case .soa(let soa) = record.data else { return nil }
                return min(record.ttl, soa.minimum)
            }.first
        default:
            ttl = nil
        }
        return ttl.map { min($0, maxTTL) }
    }

    private static func aged(_ answer: Answer, by seconds: UInt32, floor: UInt32) -> Answer {
        func age(_ records: [ResourceRecord]) -> [ResourceRecord] {
            records.map { record in
                var copy = record
                copy.ttl = max(floor, record.ttl > seconds ? record.ttl - seconds : 0)
                return copy
            }
        }
        return Answer(rcode: answer.rcode, answer: age(answer.answer), authority: age(answer.authority), additional: age(answer.additional))
    }
}
