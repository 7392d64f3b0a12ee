import Synchronization

/// Counts open connections per client address, for services that cap them.
public final class AddressLimit: Sendable {
    public let maxPerAddress: Int
    private let counts = Mutex<[IPAddress: Int]>([:])

    public init(maxPerAddress: Int) {
        self.maxPerAddress = maxPerAddress
    }

    /// Counts one more connection from `address`, unless it already has the most allowed.
    public func acquire(_ address: IPAddress) -> Bool {
        counts.withLock { counts in
            let current = counts[address, default: 0]
            guard current < maxPerAddress else { return false }
            counts[address] = current + 1
            return true
        }
    }

    public func release(_ address: IPAddress) {
        counts.withLock { counts in
            let remaining = counts[address, default: 1] - 1
            counts[address] = remaining > 0 ? remaining : nil
        }
    }
}
