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

    private let capacity: Int
    private let ring = Mutex<[Entry]>([])

    public init(capacity: Int = 50) {
        self.capacity = max(1, capacity)
    }

    public func add(_ entry: Entry) {
        ring.withLock { entries in
            if entries.count >= capacity { entries.removeFirst(entries.count - capacity + 1) }
            entries.append(entry)
        }
    }

    public var entries: [Entry] { ring.withLock { $0 } }
}
