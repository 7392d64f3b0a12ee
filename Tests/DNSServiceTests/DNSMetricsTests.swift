import DNSService
import Foundation
import Prometheus
import Testing

/// The zone serial gauges follow the zones a reload leaves: a new serial shows, a removed
/// zone's series goes.
@Suite struct DNSMetricsTests {
    static func exposition(_ registry: PrometheusCollectorRegistry) -> String {
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func aZoneGoneAtAReloadLosesItsSerialSeries() throws {
        let folder = try ZoneFileTests.Folder()
        try folder.write("a.test.zone", "$TTL 60\n@ SOA ns hm 7 1 1 1 1\n")
        try folder.write("b.test.zone", "$TTL 60\n@ SOA ns hm 9 1 1 1 1\n")
        let zones = try ZoneStore(folder: folder.path)
        let registry = PrometheusCollectorRegistry(), metrics = DNSMetrics(factory: PrometheusMetricsFactory(registry: registry))
        metrics.collect(zones: zones, forwarder: nil)
        let before = Self.exposition(registry)
        #expect(before.contains("appserver_dns_zone_serial{zone=\"a.test.\"} 7"), "\(before)")
        #expect(before.contains("appserver_dns_zone_serial{zone=\"b.test.\"} 9"), "\(before)")

        try FileManager.default.removeItem(atPath: folder.path + "/b.test.zone")
        try folder.write("a.test.zone", "$TTL 60\n@ SOA ns hm 8 1 1 1 1\n")
        #expect(zones.reload().isEmpty)
        metrics.collect(zones: zones, forwarder: nil)
        let after = Self.exposition(registry)
        #expect(after.contains("appserver_dns_zone_serial{zone=\"a.test.\"} 8"), "\(after)")
        #expect(!after.contains("b.test."), "\(after)")
    }
}
