import ServerCore

/// A zone transfer on an outbound TCP connection, as `SessionDriver` runs it: the query
/// framed and sent when the connection opens, each framed message of the reply fed to the
/// `TransferClient`, and `finished` called exactly once: with the outcome, or with why it
/// failed (a bad message, the connection gone, `deadline` seconds passed, `idle` seconds
/// with nothing received: a stalling primary keeps no transfer open).
public struct TransferSession: ConnectionSession {
    public enum Completion: Sendable { case deadline }

    public typealias Finished = @Sendable (Result<TransferClient.Outcome, TransferClient.Failure>) -> Void

    private var client: TransferClient
    private let deadline: Double
    private let idle: Double
    /// Starts the deadline's clock: calls its argument once `deadline` seconds have passed.
    private let after: @Sendable (Double, @escaping @Sendable () -> Void) -> Void
    private let clock: @Sendable () -> UInt64
    private var finished: Finished?
    private var framer = LengthPrefixFramer()

    public init(client: TransferClient, deadline: Double, idle: Double,
                after: @escaping @Sendable (Double, @escaping @Sendable () -> Void) -> Void,
                clock: @escaping @Sendable () -> UInt64, finished: @escaping Finished) {
        self.client = client
        self.deadline = deadline
        self.idle = idle
        self.after = after
        self.clock = clock
        self.finished = finished
    }

    /// The largest message and its prefix wait at most.
    public static let inputLimit = LengthPrefixFramer.largestFramed

    public var bufferedBytes: Int { framer.bufferedBytes }

    public mutating func start() -> Actions {
        let after = after, deadline = deadline
        var actions: Actions = [.idleTimeout(idle), .wait(holdsInput: false) { done in after(deadline) { done(.deadline) } }]
        if let framed = LengthPrefixFramer.frame(client.request) { actions.insert(.write(framed), at: 0) }
        return actions
    }

    public mutating func receive(_ bytes: UnsafeRawBufferPointer) {
        framer.append(bytes)
    }

    public mutating func step() -> Actions? {
        guard finished != nil else { return nil }
        switch framer.next() {
        case .needMore: return nil
        case .tooLong: return end(.failure(.malformed("a message longer than 65535 octets")))
        case .message(let message):
            switch client.receive(message, now: clock()) {
            case .needMore: return [.idleTimeout(idle)]
            case .done(let outcome): return end(.success(outcome))
            case .failed(let failure): return end(.failure(failure))
            }
        }
    }

    public mutating func complete(_ completion: Completion) -> Actions {
        end(.failure(.cutShort("no end within \(Int(deadline)) s")))
    }

    public mutating func peerClosed() -> Actions {
        end(.failure(.cutShort("the primary closed the connection")))
    }

    public mutating func drain() -> Actions {
        end(.failure(.cutShort("shutting down")))
    }

    public mutating func closed(_ reason: CloseReason) -> Actions {
        _ = end(.failure(.cutShort("the connection \(reason == .timeout ? "stalled (\(Int(idle)) s idle)" : reason.rawValue)")))
        return []
    }

    private mutating func end(_ result: Result<TransferClient.Outcome, TransferClient.Failure>) -> Actions {
        guard let finished else { return [] }
        self.finished = nil
        finished(result)
        return [.close]
    }
}
