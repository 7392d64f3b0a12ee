import CoreMetrics
import Synchronization

/// A duration histogram for the hot path: a record is one 16-byte compare-and-swap of its
/// bucket's (count, nanosecond sum) on the calling CPU's row, with no lock. `flush`, run
/// before each exposition, moves each bucket's new observations into a metrics API timer,
/// whose buckets must be these (`requestBuckets`): k observations summing to s are
/// recorded as s mod k at q + 1 and the rest at q (q = s / k). Their mean lies within
/// the bucket, and so, being whole nanoseconds, do q and q + 1: the timer's bucket counts,
/// count and sum come out exactly as if every observation had been recorded in it.
public final class PerCPUHistogram: Sendable {
    /// The request duration buckets, from 1 ms (a DNS answer from a zone) to 30 s (an FTP
    /// transfer), for the Prometheus timers and these alike.
    public static let requestBuckets: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100),
                                                    .milliseconds(500), .seconds(2), .seconds(10), .seconds(30)]

    /// Upper bounds in nanoseconds, ascending: bucket i holds (bounds[i - 1], bounds[i]],
    /// and one more bucket what lies above them all.
    let bounds: [Int64]
    let output: Timer
    /// Per bucket: `first` the count, `second` the sum, together so a reader never sees one
    /// without the other.
    let cells: PerCPUCells<WordPair>
    private let flushed: Mutex<[WordPair]>

    public init(output: Timer, buckets: [Duration] = PerCPUHistogram.requestBuckets) {
        bounds = buckets.map { Int64($0.components.seconds) * 1_000_000_000 + $0.components.attoseconds / 1_000_000_000 }
        self.output = output
        cells = PerCPUCells(width: buckets.count + 1, zero: WordPair(first: 0, second: 0))
        flushed = Mutex(Array(repeating: WordPair(first: 0, second: 0), count: buckets.count + 1))
    }

    /// Records one duration (negative ones as 0).
    public func recordNanoseconds(_ duration: Int64) {
        let value = max(duration, 0)
        var bucket = 0
        while bucket < bounds.count, value > bounds[bucket] { bucket += 1 }
        let cell = cells.local(bucket)
        var seen = WordPair(first: 0, second: 0)
        while true {
            let next = WordPair(first: seen.first &+ 1, second: seen.second &+ UInt(value))
            let (exchanged, now) = cell.pointee.weakCompareExchange(expected: seen, desired: next, ordering: .relaxed)
            if exchanged { return }
            seen = now
        }
    }

    /// Each bucket's count and sum over every CPU.
    func totals() -> [WordPair] {
        (0..<cells.width).map { bucket in
            (0..<cells.rows).reduce(WordPair(first: 0, second: 0)) { total, row in
                let cell = cells.cell(row, bucket).pointee.load(ordering: .relaxed)
                return WordPair(first: total.first &+ cell.first, second: total.second &+ cell.second)
            }
        }
    }

    /// Records into the timer what was observed since the last flush (under a lock of its
    /// own, so two expositions at once never record the same observations twice).
    public func flush() {
        flushed.withLock { flushed in
            let totals = totals()
            for (bucket, total) in totals.enumerated() {
                let count = total.first &- flushed[bucket].first, sum = total.second &- flushed[bucket].second
                guard count > 0 else { continue }
                let (mean, above) = sum.quotientAndRemainder(dividingBy: count)
                for _ in 0..<above { output.recordNanoseconds(Int64(clamping: mean + 1)) }
                for _ in 0..<count - above { output.recordNanoseconds(Int64(clamping: mean)) }
            }
            flushed = totals
        }
    }
}
