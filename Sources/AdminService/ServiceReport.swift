import ServerCore

/// What a service's process tells the admin listener about once a second: whether it
/// serves, its open connections, its last exchanges, its zones, and its Prometheus text.
/// A restarted process starts its counters again, as Prometheus expects of a restart.
public struct ServiceReport: Sendable, Equatable {
    public struct Zone: Sendable, Equatable {
        public let name: String
        public let serial: UInt32

        public init(name: String, serial: UInt32) {
            self.name = name
            self.serial = serial
        }
    }

    public var service: String
    public var ready: Bool
    /// Exchanges answered so far (the duration histograms' counts), for requests per second.
    public var requests: Int
    public var connections: [ConnectionSnapshot]
    public var recent: [RecentExchanges.Entry]
    public var zones: [Zone]
    public var metrics: String

    public init(service: String, ready: Bool, requests: Int = 0, connections: [ConnectionSnapshot] = [],
                recent: [RecentExchanges.Entry] = [], zones: [Zone] = [], metrics: String = "") {
        self.service = service
        self.ready = ready
        self.requests = requests
        self.connections = connections
        self.recent = recent
        self.zones = zones
        self.metrics = metrics
    }

    /// The sum of the `_request_duration_seconds_count` samples in `text` whose names start with `prefix`.
    public static func requestCount(in text: String, prefix: String) -> Int {
        var total = 0
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, parts[0].hasPrefix(prefix), parts[0].hasSuffix("_request_duration_seconds_count"),
                  let value = StrictNumber.decimal(parts[1]) else { continue }
            // A counter that passed 2^32 still counts (a busy server gets there in days).
            let (sum, overflow) = total.addingReportingOverflow(Int(clamping: value))
            total = overflow ? .max : sum
        }
        return total
    }
}
