import Dispatch

/// In debug builds, traps unless running on `queue`: the check behind every "confined to
/// its queue" comment (and `@unchecked Sendable`), in ServerCore and the protocols' own
/// queue-confined types. Release builds skip it.
@inline(__always)
public func assertOnQueue(_ queue: DispatchQueue) {
    #if DEBUG
    dispatchPrecondition(condition: .onQueue(queue))
    #endif
}
