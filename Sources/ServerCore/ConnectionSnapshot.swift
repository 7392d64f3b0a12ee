import Dispatch
import Synchronization

/// One open TCP connection as the console lists it: read on its worker's queue, so taking
/// one costs the served connections nothing but that turn of the queue.
public struct ConnectionSnapshot: Sendable, Equatable {
    public let id: ConnectionID
    /// The service's name (`TCPService.observer`), empty when it has none.
    public let service: String
    /// `connecting`, `open`, `sending` (waiting for the peer to read), `closing`, `lingering`.
    public let state: String
    public let ageSeconds: Double
    public let bytesIn: Int
    public let bytesOut: Int

    public init(id: ConnectionID, service: String, state: String, ageSeconds: Double, bytesIn: Int, bytesOut: Int) {
        self.id = id
        self.service = service
        self.state = state
        self.ageSeconds = ageSeconds
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
    }
}

extension Connection {
    func snapshot(now: UInt64) -> ConnectionSnapshot {
        let state: String
        switch phase {
        case .connecting: state = "connecting"
        case .open: state = pendingOutputBytes > 0 ? "sending" : "open"
        case .closingAfterFlush: state = "closing"
        case .lingering: state = "lingering"
        case .closed: state = "closed"
        }
        return ConnectionSnapshot(id: id, service: observer?.service ?? "", state: state,
                                  ageSeconds: Double(now > openedAt ? now - openedAt : 0) / 1e9, bytesIn: bytesIn, bytesOut: bytesOut)
    }
}

extension Worker {
    func snapshot(limit: Int) -> [ConnectionSnapshot] {
        assertOnQueue(queue)
        let now = now()
        return connections.values.prefix(limit).map { $0.snapshot(now: now) }
    }
}

extension ListenerRegistry {
    /// The open connections, at most `limit` from each worker, oldest first; `completion`
    /// is called once, on no particular queue, when every worker has answered.
    public func snapshot(limit: Int = 500, completion: @escaping @Sendable ([ConnectionSnapshot]) -> Void) {
        let group = DispatchGroup()
        let gathered = SnapshotParts()
        for worker in workers {
            group.enter()
            worker.queue.async {
                gathered.add(worker.snapshot(limit: limit))
                group.leave()
            }
        }
        group.notify(queue: .global()) {
            completion(gathered.all.sorted { $0.ageSeconds > $1.ageSeconds })
        }
    }
}

/// The workers' answers, joined from their queues.
private final class SnapshotParts: Sendable {
    private let parts = Mutex<[ConnectionSnapshot]>([])

    func add(_ part: [ConnectionSnapshot]) { parts.withLock { $0 += part } }

    var all: [ConnectionSnapshot] { parts.withLock { $0 } }
}
