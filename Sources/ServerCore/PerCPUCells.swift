import CSystem
import Glibc
import Synchronization

/// Atomic cells in one row per CPU, each row on cache lines of its own: a thread adds to
/// the row of the CPU it runs on, so threads on different CPUs never write the same line,
/// and no add waits for a lock. A thread moved to another CPU mid-add still adds
/// atomically (to a line then shared for a moment), so totals stay exact.
final class PerCPUCells<Value: AtomicRepresentable>: @unchecked Sendable {
    /// Every CPU the system may bring online, so that `sched_getcpu` stays below it.
    static var rows: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_CONF))) }

    let width: Int
    let rows: Int
    /// Cells from one row's start to the next: a multiple of 128 bytes, as x86's adjacent
    /// line prefetcher moves 64-byte lines in pairs.
    let stride: Int
    // Written only through Atomic's own operations; freed in deinit, after every user.
    private let cells: UnsafeMutablePointer<Atomic<Value>>

    init(width: Int, zero: Value) {
        let size = MemoryLayout<Atomic<Value>>.stride
        self.width = width
        rows = Self.rows
        stride = (max(1, width) * size + 127) / 128 * 128 / size
        let raw = UnsafeMutableRawPointer.allocate(byteCount: rows * stride * size, alignment: 128)
        cells = raw.bindMemory(to: Atomic<Value>.self, capacity: rows * stride)
        for index in 0..<rows * stride { (cells + index).initialize(to: Atomic(zero)) }
    }

    deinit {
        cells.deinitialize(count: rows * stride)
        cells.deallocate()
    }

    /// Cell `index` of the calling thread's CPU's row.
    func local(_ index: Int) -> UnsafeMutablePointer<Atomic<Value>> {
        precondition(index >= 0 && index < width, "cell \(index) of \(width)")
        let cpu = Int(csystem_cpu())
        return cells + (cpu < rows ? cpu : cpu % rows) * stride + index
    }

    /// Cell `index` of row `row`.
    func cell(_ row: Int, _ index: Int) -> UnsafeMutablePointer<Atomic<Value>> {
        precondition(row >= 0 && row < rows && index >= 0 && index < width, "cell \(row).\(index) of \(rows).\(width)")
        return cells + row * stride + index
    }
}
