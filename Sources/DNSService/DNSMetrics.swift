import CoreMetrics
import ServerCore

/// The DNS service's counters, named as CoreDNS's exporter names its own (under
/// `appserver_dns_`): a query costs two atomic adds (its request and its response) and
/// the duration's record. Types and rcodes outside the tables count as `other`.
public struct DNSMetrics: Sendable {
    static let types: [UInt16: String] = [1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA",
                                          33: "SRV", 43: "DS", 48: "DNSKEY", 65: "HTTPS", 251: "IXFR", 252: "AXFR", 255: "ANY"]
    static let rcodes: [UInt8: String] = [0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"]

    let requests: [DNSResponder.Transport: [UInt16: Counter]]
    let otherRequests: [DNSResponder.Transport: Counter]
    let responses: [UInt8: Counter]
    let otherResponses: Counter
    let cacheHits: Counter
    let cacheMisses: Counter
    let cacheEntries: Gauge
    let upstreamFailures: Counter
    let factory: any MetricsFactory
    public let duration: Timer
    public let connections: ConnectionObserver
    /// The last UDP exchanges, for the console (TCP ones are its open connections).
    public let recentDatagrams = RecentExchanges()

    public init(factory: any MetricsFactory) {
        func request(_ transport: DNSResponder.Transport, _ type: String) -> Counter {
            Counter(label: "appserver_dns_requests_total", dimensions: [("proto", transport.rawValue), ("type", type)], factory: factory)
        }
        var requests: [DNSResponder.Transport: [UInt16: Counter]] = [:], other: [DNSResponder.Transport: Counter] = [:]
        for transport in [DNSResponder.Transport.udp, .tcp] {
            requests[transport] = DNSMetrics.types.mapValues { request(transport, $0) }
            other[transport] = request(transport, "other")
        }
        self.requests = requests
        otherRequests = other
        responses = DNSMetrics.rcodes.mapValues { Counter(label: "appserver_dns_responses_total", dimensions: [("rcode", $0)], factory: factory) }
        otherResponses = Counter(label: "appserver_dns_responses_total", dimensions: [("rcode", "other")], factory: factory)
        cacheHits = Counter(label: "appserver_dns_cache_hits_total", factory: factory)
        cacheMisses = Counter(label: "appserver_dns_cache_misses_total", factory: factory)
        cacheEntries = Gauge(label: "appserver_dns_cache_entries", factory: factory)
        upstreamFailures = Counter(label: "appserver_dns_upstream_failures_total", factory: factory)
        duration = Timer(label: "appserver_dns_request_duration_seconds", factory: factory)
        connections = ConnectionObserver(service: "dns", factory: factory)
        self.factory = factory
    }

    /// A response sent: its question's type and its rcode, read from its own bytes (a
    /// response reused from the encoded cache has no decoded form).
    func answered(_ response: [UInt8], over transport: DNSResponder.Transport) {
        let type = DNSMessage.firstQuestion(of: response)?.type.rawValue
        (type.flatMap { requests[transport]?[$0] } ?? otherRequests[transport])?.increment()
        let rcode = response.count > 3 ? response[3] & 0x0F : 0xFF
        (responses[rcode] ?? otherResponses).increment()
    }

    /// A zone transfer streamed over TCP: one request and one NOERROR response, however
    /// many messages carried it.
    func streamed(_ type: UInt16) {
        (requests[.tcp]?[type] ?? otherRequests[.tcp])?.increment()
        (responses[0] ?? otherResponses).increment()
    }

    /// Sets what is read rather than counted: the forwarder's cache size, each zone's serial.
    public func collect(zones: ZoneStore, forwarder: (any UpstreamResolver)?) {
        if let forwarder = forwarder as? Forwarder { cacheEntries.record(forwarder.cache.count) }
        for zone in zones.authority.zones {
            guard case .soa(let soa) = zone.soa.data else { continue }
            Gauge(label: "appserver_dns_zone_serial", dimensions: [("zone", DNSResponder.logText(zone.origin))], factory: factory)
                .record(Int64(soa.serial))
        }
    }
}
