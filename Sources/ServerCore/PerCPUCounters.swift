import CoreMetrics
import Synchronization

/// A service's hot counters (and levels, such as open connections): an add is one relaxed
/// atomic add on the calling CPU's row, with no lock and no cache line shared between
/// CPUs. What the rows hold reaches the metrics API's handles only in `flush`, which the
/// process runs before each exposition, so the text is current whenever it is read.
public final class PerCPUCounters: Sendable {
    /// Where a cell's total goes: a counter gets what was added since the last flush, a
    /// meter is set to the total (adds and subtracts, from its start).
    public enum Output: Sendable {
        case counter(Counter)
        case meter(Meter)
    }

    /// One cell, for code that counts one thing and knows nothing of the others.
    public struct Cell: Sendable {
        let counters: PerCPUCounters
        let index: Int

        public func increment() { counters.add(index) }
    }

    let outputs: [Output]
    let cells: PerCPUCells<Int>
    /// The totals as last flushed: a counter is given the difference.
    private let flushed: Mutex<[Int]>

    /// Cell `i` goes to `outputs[i]`.
    public init(_ outputs: [Output]) {
        self.outputs = outputs
        cells = PerCPUCells(width: outputs.count, zero: 0)
        flushed = Mutex(Array(repeating: 0, count: outputs.count))
    }

    /// Adds `amount` (negative for a meter's decrease) to cell `index`.
    public func add(_ index: Int, _ amount: Int = 1) {
        cells.local(index).pointee.wrappingAdd(amount, ordering: .relaxed)
    }

    public func cell(_ index: Int) -> Cell { Cell(counters: self, index: index) }

    /// Each cell's total over every CPU.
    public func totals() -> [Int] {
        (0..<cells.width).map { index in
            (0..<cells.rows).reduce(0) { $0 &+ cells.cell($1, index).pointee.load(ordering: .relaxed) }
        }
    }

    /// Moves what was added since the last flush into the handles (under a lock of its
    /// own, so two expositions at once never give a counter the same adds twice).
    public func flush() {
        flushed.withLock { flushed in
            let totals = totals()
            for (index, output) in outputs.enumerated() {
                switch output {
                case .counter(let counter):
                    let added = totals[index] &- flushed[index]
                    if added > 0 { counter.increment(by: added) }
                case .meter(let meter):
                    meter.set(totals[index])
                }
            }
            flushed = totals
        }
    }
}
