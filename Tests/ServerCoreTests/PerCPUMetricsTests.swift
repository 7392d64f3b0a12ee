import CoreMetrics
import Dispatch
import Prometheus
import ServerCore
import Testing

/// The per-CPU counters and histogram: totals exact after threads record at once, and the
/// flush into swift-prometheus gives the text a handle fed directly gives.
@Suite struct PerCPUMetricsTests {
    static func factory(_ registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = PerCPUHistogram.requestBuckets
        return factory
    }

    /// The sample lines of `text`, by name and labels.
    static func samples(_ text: String) -> [String: String] {
        Dictionary(text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line in
            line.lastIndex(of: " ").map { (String(line[..<$0]), String(line[line.index(after: $0)...])) }
        }, uniquingKeysWith: { $1 })
    }

    @Test func countsFromSeveralThreadsAddUpExactlyAndFlushOnlyWhatIsNew() {
        let registry = PrometheusCollectorRegistry(), factory = Self.factory(registry)
        let counts = PerCPUCounters([.counter(Counter(label: "t_a_total", factory: factory)),
                                     .counter(Counter(label: "t_b_total", factory: factory)),
                                     .meter(Meter(label: "t_open", factory: factory))])
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for step in 0..<50_000 {
                counts.add(0)
                counts.add(1, thread + 1)
                counts.add(2, step % 2 == 0 ? 1 : -1)
            }
            counts.add(2)
        }
        #expect(counts.totals() == [400_000, 50_000 * 36, 8])
        counts.flush()
        #expect(Self.samples(registry.emitToString()) == ["t_a_total": "400000", "t_b_total": "1800000", "t_open": "8.0"])
        counts.flush()
        counts.cell(0).increment()
        counts.add(2, -3)
        counts.flush()
        #expect(Self.samples(registry.emitToString()) == ["t_a_total": "400001", "t_b_total": "1800000", "t_open": "5.0"])
    }

    /// Durations in every bucket, on and either side of each bound, and beyond the last.
    static func durations(seed: UInt64, count: Int) -> [Int64] {
        let bounds = PerCPUHistogram.requestBuckets.map { Int64($0.components.seconds) * 1_000_000_000 + $0.components.attoseconds / 1_000_000_000 }
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let pick = Int(state >> 33)
            let bound = bounds[pick % bounds.count]
            switch pick % 5 {
            case 0: return bound
            case 1: return bound + 1
            case 2: return bound - 1
            case 3: return Int64(pick % 1_000_000_000) * 47
            default: return pick % 97 == 0 ? -5 : Int64(pick % 3000)
            }
        }
    }

    @Test func theHistogramFlushedWhileThreadsRecordMatchesOneFedDirectly() {
        let sharded = PrometheusCollectorRegistry(), direct = PrometheusCollectorRegistry()
        let histogram = PerCPUHistogram(output: Timer(label: "t_seconds", factory: Self.factory(sharded)))
        let fed = Timer(label: "t_seconds", factory: Self.factory(direct))
        DispatchQueue.concurrentPerform(iterations: 5) { thread in
            if thread == 4 {
                for _ in 0..<200 { histogram.flush() }
                return
            }
            for value in Self.durations(seed: UInt64(thread), count: 40_000) {
                histogram.recordNanoseconds(value)
                fed.recordNanoseconds(max(value, 0))
            }
        }
        histogram.flush()
        let text = sharded.emitToString()
        #expect(text == direct.emitToString())
        #expect(Self.samples(text)["t_seconds_count"] == "160000")
        histogram.flush()
        #expect(sharded.emitToString() == text)
    }

    @Test func aHistogramOfOneBucketSplitsItsSumExactly() {
        let registry = PrometheusCollectorRegistry(), direct = PrometheusCollectorRegistry()
        let histogram = PerCPUHistogram(output: Timer(label: "t_seconds", factory: Self.factory(registry)))
        let fed = Timer(label: "t_seconds", factory: Self.factory(direct))
        // Seven values in (5 ms, 25 ms] whose mean is not whole: some at q + 1, the rest at q.
        for value: Int64 in [5_000_001, 5_000_001, 5_000_001, 5_000_001, 5_000_001, 25_000_000, 24_999_999] {
            histogram.recordNanoseconds(value)
            fed.recordNanoseconds(value)
        }
        histogram.flush()
        #expect(registry.emitToString() == direct.emitToString())
        #expect(Self.samples(registry.emitToString())["t_seconds_bucket{le=\"0.005\"}"] == "0")
    }
}
