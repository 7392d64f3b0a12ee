import Synchronization

/// The answers given while one batch of datagrams is being handled, collected so that the
/// listener sends them together. A reply that comes after its batch closed (its
/// generation has passed) is refused here and sent on its own.
final class ReplyBatch: Sendable {
    /// An answer: its bytes, what to write over their first two (nil: nothing), whom to and from where.
    typealias Reply = (bytes: [UInt8], head: (UInt8, UInt8)?, to: SocketAddress, from: DatagramReply.Source?)

    private struct State {
        var generation: UInt64 = 0
        var isOpen = false
        var replies: [Reply] = []
    }

    private let state = Mutex(State())

    func open() -> UInt64 {
        state.withLock { state in
            state.generation += 1
            state.isOpen = true
            return state.generation
        }
    }

    /// Whether the reply joined the batch of `generation` (false: send it yourself).
    func add(_ reply: Reply, generation: UInt64) -> Bool {
        state.withLock { state in
            guard state.isOpen && state.generation == generation else { return false }
            state.replies.append(reply)
            return true
        }
    }

    /// Closes the batch and hands its replies over in `replies`, taking that (emptied)
    /// array in their place: the two arrays keep their capacity, so a batch allocates none.
    func close(into replies: inout [Reply]) {
        replies.removeAll(keepingCapacity: true)
        state.withLock { state in
            state.isOpen = false
            swap(&state.replies, &replies)
        }
    }
}
