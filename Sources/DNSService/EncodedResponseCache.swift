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
        let bytes: [UInt8]
        /// `"name TYPE" RCODE count`, for the access line.
        let summary: String
    }

    private struct Entry {
        let bytes: [UInt8]
        let summary: String
        let zones: Int
        /// Valid while the clock's second is below this (`.max`: until a reload).
        let expires: UInt64
    }

    private struct State {
        var entries: [[UInt8]: Entry] = [:]
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
    static func key(_ query: [UInt8], tcp: Bool, recursionAllowed: Bool) -> [UInt8] {
        var key: [UInt8] = [tcp ? 1 : 0, recursionAllowed ? 1 : 0]
        key.append(contentsOf: query[2...])
        return key
    }

    /// The response held for `key`, with the query's `id` written in.
    func lookup(_ key: [UInt8], id: (UInt8, UInt8), zones: Int, second: UInt64) -> Hit? {
        guard let entry = state.withLock({ $0.entries[key] }), entry.zones == zones, second < entry.expires else { return nil }
        var bytes = entry.bytes
        bytes[0] = id.0
        bytes[1] = id.1
        return Hit(bytes: bytes, summary: entry.summary)
    }

    func store(_ key: [UInt8], response: [UInt8], summary: String, zones: Int, expires: UInt64) {
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
