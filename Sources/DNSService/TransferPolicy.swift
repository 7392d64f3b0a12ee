import Glibc
import ServerCore

/// Who may transfer our zones (RFC 5936 6): clients from `allowed` (none by default),
/// signing with `requiredKey` when one is named; and the keys that TSIG checks against.
public struct TransferPolicy: Sendable {
    public var allowed: [IPNetwork]
    public var keys: [DNSName: TSIGKey]
    public var requiredKey: DNSName?
    /// Seconds since the epoch, for TSIG's time check.
    public var clock: @Sendable () -> UInt64

    public init(allowed: [IPNetwork] = [], keys: [DNSName: TSIGKey] = [:], requiredKey: DNSName? = nil,
                clock: @escaping @Sendable () -> UInt64 = { UInt64(max(0, time(nil))) }) {
        self.allowed = allowed
        self.keys = keys
        self.requiredKey = requiredKey
        self.clock = clock
    }

    /// Why `client`, whose request `verdict` says how it was signed, may not transfer; nil if it may.
    func refusal(_ client: ConnectionID, _ verdict: TSIG.Verdict) -> String? {
        guard allowed.contains(where: { $0.contains(client.remote.ip) }) else { return "address not allowed" }
        guard let requiredKey else { return nil }
        guard case .valid(let key, _, _) = verdict, key.name == requiredKey else { return "not signed with the key \(requiredKey)" }
        return nil
    }
}

/// RFC 1982 serial number arithmetic: whether `a` is before `b`.
enum Serial {
    static func precedes(_ a: UInt32, _ b: UInt32) -> Bool {
        a != b && b &- a < 0x8000_0000
    }
}
