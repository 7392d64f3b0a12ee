import Synchronization

/// Our encoded responses, keyed by the query's bytes: what the responder sent, ready to send
/// again (`UpstreamRecordCache` holds the records upstream gave, by question).
///
/// The same query bytes (all but the ID), over the
/// same transport, from a client with the same right to recursion, get the same response,
/// so it is looked up and encoded once and later only the ID is changed, as NSD answers
/// from answers it compiled ahead. A response from our zones holds until the zones are
/// reloaded; one from the forwarder's cache only for the second it was made in, since
/// its TTLs count down. Held to a byte budget: past it the table starts again.
final class EncodedResponseCache: Sendable {
    struct Hit {
        /// The response as kept, with the ID of the query it was made for.
        let kept: [UInt8]
        /// The ID of the query asking now.
        let id: (UInt8, UInt8)
        /// `"name TYPE" RCODE count`, for the access line.
        let summary: String

        /// The response with the query's ID (a copy: the UDP path sends `kept` with `id` written over it instead).
        var bytes: [UInt8] { [id.0, id.1] + kept.dropFirst(2) }
    }

    /// Who may recurse, the transport, and every byte of the query after the ID. It holds
    /// the query's own array rather than a copy of its tail, hashed in one call: a lookup
    /// allocates nothing.
    struct Key: Hashable {
        let query: [UInt8]
        let flags: UInt8

        /// Its size against the budget.
        var count: Int { query.count }

        func hash(into hasher: inout Hasher) {
            hasher.combine(flags)
            query.withUnsafeBytes { hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: $0.dropFirst(2))) }
        }

        static func == (a: Key, b: Key) -> Bool {
            a.flags == b.flags && a.query.count == b.query.count
                && a.query.withUnsafeBytes { x in b.query.withUnsafeBytes { y in x.dropFirst(2).elementsEqual(y.dropFirst(2)) } }
        }
    }

    private struct Entry {
        let bytes: [UInt8]
        let summary: String
        let zones: Int
        /// Valid while the clock's second is below this (`.max`: until a reload).
        let expires: UInt64
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var bytes = 0
    }

    private let state = Mutex(State())
    private let budget: Int
    /// Larger responses are encoded every time.
    static let largest = 4096

    init(budget: Int = 8 * 1024 * 1024) {
        self.budget = budget
    }

    /// The key of `query`: who may recurse, the transport, and every byte after the ID.
    static func key(_ query: [UInt8], tcp: Bool, recursionAllowed: Bool) -> Key {
        Key(query: query, flags: (tcp ? 2 : 0) | (recursionAllowed ? 1 : 0))
    }

    /// The response held for `key`, for the query of `id`.
    func lookup(_ key: Key, id: (UInt8, UInt8), zones: Int, second: UInt64) -> Hit? {
        guard let entry = state.withLock({ $0.entries[key] }), entry.zones == zones, second < entry.expires else { return nil }
        return Hit(kept: entry.bytes, id: id, summary: entry.summary)
    }

    func store(_ key: Key, response: [UInt8], summary: String, zones: Int, expires: UInt64) {
        guard response.count >= 12, response.count <= EncodedResponseCache.largest else { return }
        state.withLock { state in
            if state.bytes + key.count + response.count > budget {
                state.entries.removeAll()
                state.bytes = 0
            }
            if let old = state.entries.updateValue(Entry(bytes: response, summary: summary, zones: zones, expires: expires), forKey: key) {
                state.bytes -= key.count + old.bytes.count
            }
            state.bytes += key.count + response.count
        }
    }
}
