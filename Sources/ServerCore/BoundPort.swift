import Synchronization

/// A port number known once its socket is bound (a port of 0 becomes a free one then), for
/// a service that names another's port: plain HTTP's redirect to HTTPS.
public final class BoundPort: Sendable {
    private let value: Atomic<UInt16>

    public init(_ port: UInt16) { value = Atomic(port) }

    public var port: UInt16 { value.load(ordering: .relaxed) }

    public func set(_ port: UInt16) { value.store(port, ordering: .relaxed) }
}
