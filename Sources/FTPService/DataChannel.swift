import Dispatch
import ServerCore
import Synchronization

/// One transfer's data connection as the control session sees it: a transfer run on it
/// reports how it ended (and how many bytes it moved, nil if not known); ABOR and a new
/// PASV or PORT end it. `DataChannel` is the real one; tests put in one without sockets.
protocol DataLink: AnyObject, Sendable {
    func run(_ transfer: Transfer, done: @escaping @Sendable (DataChannel.Outcome, Int64?) -> Void)
    /// ABOR: true when a transfer was under way (its end is then reported as broken).
    func abort() -> Bool
    /// The control connection is done with this link.
    func close()
}

/// Where the control session gets its data links.
protocol DataLinks: Sendable {
    /// A passive listener on `local` that accepts only `peer`, and its port; nil if none could open.
    func passive(local: IPAddress, peer: IPAddress) -> (link: any DataLink, port: UInt16)?
    /// A link that connects out to `target` when a transfer runs.
    func active(to target: SocketAddress, local: IPAddress) -> any DataLink
}

/// Data channels through the registry, as the service runs them.
struct RegistryDataLinks: DataLinks {
    let registry: ListenerRegistry
    let ports: ClosedRange<UInt16>?
    let timeout: Double

    func passive(local: IPAddress, peer: IPAddress) -> (link: any DataLink, port: UInt16)? {
        DataChannel.passive(registry: registry, local: local, ports: ports, peer: peer, timeout: timeout).map { ($0, $1.port) }
    }

    func active(to target: SocketAddress, local: IPAddress) -> any DataLink {
        DataChannel.active(registry: registry, target: target, local: local, timeout: timeout)
    }
}

/// One transfer's data connection, as PASV/EPSV or PORT/EPRT set it up: a passive listener
/// that accepts only the control connection's own peer (anyone else is closed and the
/// listener keeps waiting), or an address to connect out to. Shared between the control
/// session, which runs a transfer on it, and the data handler, which carries it out.
final class DataChannel: DataLink {
    enum Outcome: Sendable { case complete, broken, noConnection, localError }

    typealias Done = @Sendable (Outcome, Int64?) -> Void

    /// Where the channel is, under its lock. The handler and the channel hold each other
    /// until `finished`.
    private enum State {
        /// No data connection yet. `listener`: a passive one still open; `request`: the
        /// transfer to start once the connection comes.
        case waiting(listener: ListenerHandle?, request: (transfer: Transfer, done: Done)?)
        /// Connected, no transfer asked for yet.
        case connected(any ConnectionContext, DataHandler)
        /// The transfer is with the data handler; `aborted`: its end is reported as broken.
        case transferring(any ConnectionContext, DataHandler, done: Done, aborted: Bool)
        /// Ended (or closed, or aborted): nothing more is accepted or reported.
        case finished
    }

    private let state = Mutex(State.waiting(listener: nil, request: nil))
    /// How long the data connection may take to come, and may stall once it has.
    let timeout: Double
    /// For an active channel: whom to connect to, from which address, through which registry.
    private let active: (target: SocketAddress, local: IPAddress, registry: ListenerRegistry)?

    private init(timeout: Double, active: (SocketAddress, IPAddress, ListenerRegistry)?) {
        self.timeout = timeout
        self.active = active
    }

    /// Listens on `local` (a port in `ports`, or any) for the peer's data connection.
    static func passive(registry: ListenerRegistry, local: IPAddress, ports: ClosedRange<UInt16>?, peer: IPAddress,
                        timeout: Double) -> (DataChannel, SocketAddress)? {
        let channel = DataChannel(timeout: timeout, active: nil)
        let service = TCPService { id in
            DataAddress.sameHost(id.remote.ip, peer) ? DataHandler(channel) : DataHandler(nil)
        }
        let candidates: [UInt16] = ports.map { range in (0..<min(64, range.count)).map { _ in UInt16.random(in: range) } } ?? [0]
        for port in candidates {
            guard let handle = try? registry.listen(SocketAddress(ip: local, port: port), service: service) else { continue }
            channel.state.withLock { $0 = .waiting(listener: handle, request: nil) }
            // A PASV never used closes by itself.
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { channel.expireIfUnused() }
            return (channel, handle.address)
        }
        return nil
    }

    static func active(registry: ListenerRegistry, target: SocketAddress, local: IPAddress, timeout: Double) -> DataChannel {
        DataChannel(timeout: timeout, active: (target, local, registry))
    }

    /// The data connection has opened (on its own queue).
    func attach(_ connection: any ConnectionContext, _ handler: DataHandler) {
        let (accepted, listener, transfer) = state.withLock { state -> (Bool, ListenerHandle?, Transfer?) in
            guard case .waiting(let listener, let request) = state else { return (false, nil, nil) }
            if let request {
                state = .transferring(connection, handler, done: request.done, aborted: false)
            } else {
                state = .connected(connection, handler)
            }
            return (true, listener, request?.transfer)
        }
        // A second connection, or one after the channel closed, is not wanted.
        guard accepted else { return connection.close() }
        listener?.stop()
        if let transfer { handler.start(transfer, on: connection) }
    }

    /// Runs `transfer` once the data connection is there; `done` hears how it ended and how
    /// many bytes it moved (nil if not known).
    func run(_ transfer: Transfer, done: @escaping Done) {
        enum Next { case start(any ConnectionContext, DataHandler), connect, waitForConnection, ended }
        let next = state.withLock { state -> Next in
            switch state {
            case .waiting(let listener, nil):
                state = .waiting(listener: listener, request: (transfer, done))
                return active == nil ? .waitForConnection : .connect
            case .connected(let connection, let handler):
                state = .transferring(connection, handler, done: done, aborted: false)
                return .start(connection, handler)
            case .waiting, .transferring, .finished:
                return .ended
            }
        }
        switch next {
        case .start(let connection, let handler):
            connection.async { connection in handler.start(transfer, on: connection) }
        case .connect:
            guard let active else { return }
            active.registry.connect(to: active.target, from: active.local,
                                    service: TCPService { [self] _ in DataHandler(self) }, timeout: timeout)
        case .waitForConnection:
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [self] in
                let waiting = state.withLock { if case .waiting = $0 { true } else { false } }
                if waiting { finish(.noConnection, bytes: 0) }
            }
        case .ended:
            // The data connection came and went before the transfer: there is none to use.
            if case .receive(let upload, _) = transfer { upload.abandon() }
            done(.noConnection, 0)
        }
    }

    /// Ends the transfer (once); an aborted one is reported broken whatever happened.
    func finish(_ outcome: Outcome, bytes: Int64?) {
        let (done, listener) = state.withLock { state -> (Done?, ListenerHandle?) in
            defer { state = .finished }
            switch state {
            case .waiting(let listener, let request):
                return (request?.done, listener)
            case .transferring(_, _, let done, let aborted):
                return (aborted ? { _, bytes in done(.broken, bytes) } : done, nil)
            case .connected, .finished:
                return (nil, nil)
            }
        }
        listener?.stop()
        done?(outcome, bytes)
    }

    func abort() -> Bool {
        let (running, connection) = state.withLock { state -> (Bool, (any ConnectionContext)?) in
            switch state {
            case .transferring(let connection, let handler, let done, _):
                state = .transferring(connection, handler, done: done, aborted: true)
                return (true, connection)
            case .waiting(_, let request): return (request != nil, nil)
            case .connected(let connection, _): return (false, connection)
            case .finished: return (false, nil)
            }
        }
        if let connection { connection.async { $0.close() } }
        if running && connection == nil { finish(.broken, bytes: 0) }
        return running
    }

    func close() {
        let (listener, connection, running) = state.withLock { state -> (ListenerHandle?, (any ConnectionContext)?, Bool) in
            switch state {
            case .waiting(let listener, let request):
                state = request == nil ? .finished : .waiting(listener: nil, request: request)
                return (listener, nil, request != nil)
            case .connected(let connection, _):
                state = .finished
                return (nil, connection, false)
            case .transferring: return (nil, nil, true)
            case .finished: return (nil, nil, false)
            }
        }
        listener?.stop()
        if running { _ = abort() } else if let connection { connection.async { $0.close() } }
    }

    private func expireIfUnused() {
        let listener = state.withLock { state -> ListenerHandle? in
            guard case .waiting(let listener, nil) = state else { return nil }
            state = .waiting(listener: nil, request: nil)
            return listener
        }
        listener?.stop()
    }
}
