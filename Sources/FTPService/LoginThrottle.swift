import Dispatch
import ServerCore
import Synchronization

/// Slows down password guessing: each failed login from an address waits longer before
/// its 530 (1 s, then doubling to 16 s); a success, or 15 quiet minutes, forgets it.
public final class LoginThrottle: Sendable {
    private let failures = Mutex<[IPAddress: (count: Int, last: UInt64)]>([:])
    private let clock: @Sendable () -> UInt64

    static let forget: UInt64 = 15 * 60

    /// `clock`: seconds on a monotonic scale.
    public init(clock: @escaping @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds / 1_000_000_000 }) {
        self.clock = clock
    }

    /// Records a failure; returns how long to wait before saying so.
    public func failed(_ address: IPAddress) -> Double {
        return failures.withLock { table in
            // Read under the lock, and never subtracted: a time read before it could be older
            // than an entry another thread has just written, and `now - last` would trap.
            let now = clock()
            var entry = table[address] ?? (0, now)
            if now > entry.last + LoginThrottle.forget { entry.count = 0 }
            entry = (entry.count + 1, now)
            table[address] = entry
            if table.count > 10_000 { table = table.filter { now <= $0.value.last + LoginThrottle.forget } }
            return Double(1 << min(entry.count - 1, 4))
        }
    }

    public func succeeded(_ address: IPAddress) {
        _ = failures.withLock { $0.removeValue(forKey: address) }
    }
}
