import Synchronization

/// Counts open connections per client address, for the registry's per-address cap. Like
/// Postfix's `smtpd_client_connection_count_limit` (50, with `mynetworks` exempt), the
/// exempt networks (loopback by default) are never counted or refused.
public final class AddressLimit: Sendable {
    public let maxPerAddress: Int
    public let exempt: [IPNetwork]
    private let counts = Mutex<[IPAddress: Int]>([:])

    public init(maxPerAddress: Int, exempt: [IPNetwork] = IPNetwork.loopback) {
        self.maxPerAddress = maxPerAddress
        self.exempt = exempt
    }

    private func isExempt(_ address: IPAddress) -> Bool { exempt.contains { $0.contains(address) } }

    /// Counts one more connection from `address`, unless it already has the most allowed.
    public func acquire(_ address: IPAddress) -> Bool {
        if isExempt(address) { return true }
        return counts.withLock { counts in
            let current = counts[address, default: 0]
            guard current < maxPerAddress else { return false }
            counts[address] = current + 1
            return true
        }
    }

    public func release(_ address: IPAddress) {
        if isExempt(address) { return }
        counts.withLock { counts in
            let remaining = counts[address, default: 1] - 1
            counts[address] = remaining > 0 ? remaining : nil
        }
    }
}
