import Synchronization

/// The last few exchanges of a service (FTP transfers, DNS datagrams), newest last, for the
/// console: a bounded ring behind a lock taken once per exchange and once per report.
public final class RecentExchanges: Sendable {
    public struct Entry: Sendable, Equatable {
        /// Seconds since the epoch.
        public let time: Int
        public let client: ConnectionID
        /// The access line's own text (already escaped for a log line).
        public let summary: String
        public let bytes: Int64

        public init(time: Int, client: ConnectionID, summary: String, bytes: Int64) {
            self.time = time
            self.client = client
            self.summary = summary
            self.bytes = bytes
        }
    }

    /// The entries in arrival order from `next` on once `capacity` have come (a ring: a full
    /// one overwrites its oldest in place rather than moving every other entry down).
    private struct Ring {
        var entries: [Entry] = []
        var next = 0
    }

    private let capacity: Int
    private let ring = Mutex(Ring())

    public init(capacity: Int = 50) {
        self.capacity = max(1, capacity)
    }

    public func add(_ entry: Entry) {
        ring.withLock { ring in
            guard ring.entries.count >= capacity else { return ring.entries.append(entry) }
            ring.entries[ring.next] = entry
            ring.next = (ring.next + 1) % capacity
        }
    }

    public var entries: [Entry] {
        ring.withLock { ring in Array(ring.entries[ring.next...] + ring.entries[..<ring.next]) }
    }
}
