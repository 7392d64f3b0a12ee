import Dispatch
import Glibc
import Synchronization

/// The one place blocking work runs (crypt(3), fsync, large copies): a few serial queues,
/// so at most `lanes` such jobs run at once, and at most `capacity` wait. When it is full,
/// `submit` says no and the caller answers busy; nothing here ever adds a thread, where
/// `DispatchQueue.global()` adds one for every job that blocks.
public final class BlockingPool: Sendable {
    private let lanes: [DispatchQueue]
    private let capacity: Int
    /// Jobs queued or running, per lane.
    private let loads: Mutex<[Int]>

    /// About a core's worth of lanes each, as nginx's thread pool is sized.
    public static let shared = BlockingPool(lanes: max(2, sysconf(Int32(_SC_NPROCESSORS_ONLN))), capacity: 256)

    public init(lanes: Int, capacity: Int) {
        let count = max(1, lanes)
        self.lanes = (0..<count).map { DispatchQueue(label: "appserver.blocking.\($0)") }
        self.capacity = max(count, capacity)
        loads = Mutex(Array(repeating: 0, count: count))
    }

    /// Runs `job` on the least busy lane; false (and nothing run) when `capacity` jobs wait.
    @discardableResult
    public func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        let lane: Int? = loads.withLock { loads in
            guard loads.reduce(0, +) < capacity else { return nil }
            let index = loads.indices.min { loads[$0] < loads[$1] } ?? 0
            loads[index] += 1
            return index
        }
        guard let lane else { return false }
        lanes[lane].async { [self] in
            job()
            loads.withLock { $0[lane] -= 1 }
        }
        return true
    }

    /// Jobs queued or running now.
    public var load: Int { loads.withLock { $0.reduce(0, +) } }
}
