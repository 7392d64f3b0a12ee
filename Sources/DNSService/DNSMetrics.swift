import CoreMetrics
import ServerCore
import Synchronization

/// The DNS service's counters, named as CoreDNS's exporter names its own (under
/// `appserver_dns_`), counted per CPU with no lock: a query costs two relaxed atomic adds
/// (its request and its response) and the duration's record; `flush` moves them into the
/// handles before each exposition. Types and rcodes outside the tables count as `other`;
/// DNS over TLS is not counted by transport (nor was it before the counts moved here).
public struct DNSMetrics: Sendable {
    static let types: [(UInt16, String)] = [(1, "A"), (2, "NS"), (5, "CNAME"), (6, "SOA"), (12, "PTR"), (15, "MX"), (16, "TXT"),
                                            (28, "AAAA"), (33, "SRV"), (43, "DS"), (48, "DNSKEY"), (65, "HTTPS"), (251, "IXFR"),
                                            (252, "AXFR"), (255, "ANY")]
    static let rcodes = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"]
    /// Each type below 256's column among a transport's request cells (`other`: the last).
    static let typeColumns: [Int] = {
        var columns = Array(repeating: types.count, count: 256)
        for (column, (type, _)) in types.enumerated() { columns[Int(type)] = column }
        return columns
    }()
    /// The cells: requests by transport (UDP, then TCP) and type, responses by rcode, then these.
    static let columns = types.count + 1, responses = 2 * columns, cacheHits = responses + rcodes.count + 1
    static let cacheMisses = cacheHits + 1, upstreamFailures = cacheHits + 2

    let counts: PerCPUCounters
    let cacheEntries: Gauge
    let factory: any MetricsFactory
    /// Each zone's serial gauge by its zone's name, kept so a zone gone at a reload loses its
    /// series rather than showing its last serial for ever.
    let zoneSerials = ZoneSerials()
    public let duration: PerCPUHistogram
    public let connections: ConnectionObserver
    /// The last UDP exchanges, for the console (TCP ones are its open connections).
    public let recentDatagrams = RecentExchanges()

    public init(factory: any MetricsFactory) {
        func counter(_ label: String, _ dimensions: [(String, String)] = []) -> PerCPUCounters.Output {
            .counter(Counter(label: label, dimensions: dimensions, factory: factory))
        }
        let requests = ["udp", "tcp"].flatMap { transport in
            (DNSMetrics.types.map(\.1) + ["other"]).map { counter("appserver_dns_requests_total", [("proto", transport), ("type", $0)]) }
        }
        let responses = (DNSMetrics.rcodes + ["other"]).map { counter("appserver_dns_responses_total", [("rcode", $0)]) }
        counts = PerCPUCounters(requests + responses + [counter("appserver_dns_cache_hits_total"), counter("appserver_dns_cache_misses_total"),
                                                        counter("appserver_dns_upstream_failures_total")])
        cacheEntries = Gauge(label: "appserver_dns_cache_entries", factory: factory)
        duration = PerCPUHistogram(output: Timer(label: "appserver_dns_request_duration_seconds", factory: factory))
        connections = ConnectionObserver(service: "dns", factory: factory)
        self.factory = factory
    }

    /// A response sent: its question's type and its rcode, read from its own bytes (a
    /// response reused from the encoded cache has no decoded form).
    func answered(_ response: [UInt8], over transport: DNSResponder.Transport) {
        request(DNSMessage.firstQuestion(of: response)?.type.rawValue, over: transport)
        let rcode = response.count > 3 ? Int(response[3] & 0x0F) : DNSMetrics.rcodes.count
        counts.add(DNSMetrics.responses + min(rcode, DNSMetrics.rcodes.count))
    }

    /// A zone transfer streamed over TCP: one request and one NOERROR response, however
    /// many messages carried it.
    func streamed(_ type: UInt16) {
        request(type, over: .tcp)
        counts.add(DNSMetrics.responses)
    }

    private func request(_ type: UInt16?, over transport: DNSResponder.Transport) {
        let row: Int
        switch transport {
        case .udp: row = 0
        case .tcp: row = DNSMetrics.columns
        case .tls: return
        }
        let column = type.map { $0 < 256 ? DNSMetrics.typeColumns[Int($0)] : DNSMetrics.types.count } ?? DNSMetrics.types.count
        counts.add(row + column)
    }

    /// A question looked up in the forwarder's record cache.
    func cacheLookup(hit: Bool) { counts.add(hit ? DNSMetrics.cacheHits : DNSMetrics.cacheMisses) }

    func upstreamFailed() { counts.add(DNSMetrics.upstreamFailures) }

    /// Moves the counts into the handles (before each exposition).
    public func flush() {
        counts.flush()
        duration.flush()
        connections.flush()
    }

    /// Sets what is read rather than counted: the forwarder's cache size, each zone's serial.
    public func collect(zones: ZoneStore, forwarder: (any UpstreamResolver)?) {
        if let forwarder = forwarder as? Forwarder { cacheEntries.record(forwarder.cache.count) }
        var serials: [String: Int64] = [:]
        for zone in zones.authority.zones {
            guard case .soa(let soa) = zone.soa.data else { continue }
            serials[DNSResponder.logText(zone.origin)] = Int64(soa.serial)
        }
        zoneSerials.record(serials, factory: factory)
    }
}

/// The zone serial gauges made so far, by zone name.
final class ZoneSerials: Sendable {
    private let gauges = Mutex<[String: Gauge]>([:])

    /// Sets each zone's serial and destroys the gauges of zones no longer there.
    func record(_ serials: [String: Int64], factory: any MetricsFactory) {
        gauges.withLock { gauges in
            for (zone, gauge) in gauges where serials[zone] == nil {
                gauge.destroy()
                gauges[zone] = nil
            }
            for (zone, serial) in serials {
                let gauge = gauges[zone] ?? Gauge(label: "appserver_dns_zone_serial", dimensions: [("zone", zone)], factory: factory)
                gauges[zone] = gauge
                gauge.record(serial)
            }
        }
    }
}
