import Dispatch
import ServerCore
import Synchronization

/// One transfer's data connection, as PASV/EPSV or PORT/EPRT set it up: a passive listener
/// that accepts only the control connection's own peer (anyone else is closed and the
/// listener keeps waiting), or an address to connect out to. Shared between the control
/// handler, which runs a transfer on it, and the data handler, which carries it out.
final class DataChannel: Sendable {
    enum Outcome: Sendable { case complete, broken, noConnection, localError }

    private struct State {
        var listener: ListenerHandle?
        var connection: (any ConnectionContext)?
        var handler: DataHandler?
        var pending: Transfer?
        var done: (@Sendable (Outcome, Int64?) -> Void)?
        var started = false
        var aborted = false
        var finished = false
    }

    private let state = Mutex(State())
    private let peer: IPAddress
    /// How long the data connection may take to come, and may stall once it has.
    let timeout: Double
    /// For an active channel: whom to connect to, from which address, through which registry.
    private let active: (target: SocketAddress, local: IPAddress, registry: ListenerRegistry)?

    private init(peer: IPAddress, timeout: Double, active: (SocketAddress, IPAddress, ListenerRegistry)?) {
        self.peer = peer
        self.timeout = timeout
        self.active = active
    }

    /// Listens on `local` (a port in `ports`, or any) for the peer's data connection.
    static func passive(registry: ListenerRegistry, local: IPAddress, ports: ClosedRange<UInt16>?, peer: IPAddress,
                        timeout: Double) -> (DataChannel, SocketAddress)? {
        let channel = DataChannel(peer: peer, timeout: timeout, active: nil)
        let service = TCPService { id in
            DataAddress.sameHost(id.remote.ip, peer) ? DataHandler(channel) : DataHandler(nil)
        }
        let candidates: [UInt16] = ports.map { range in (0..<min(64, range.count)).map { _ in UInt16.random(in: range) } } ?? [0]
        for port in candidates {
            guard let handle = try? registry.listen(SocketAddress(ip: local, port: port), service: service) else { continue }
            channel.state.withLock { $0.listener = handle }
            // A PASV never used closes by itself.
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { channel.expireIfUnused() }
            return (channel, handle.address)
        }
        return nil
    }

    static func active(registry: ListenerRegistry, target: SocketAddress, local: IPAddress, timeout: Double) -> DataChannel {
        DataChannel(peer: target.ip, timeout: timeout, active: (target, local, registry))
    }

    /// The data connection has opened (on its own queue).
    func attach(_ connection: any ConnectionContext, _ handler: DataHandler) {
        let (accepted, listener, transfer) = state.withLock { state -> (Bool, ListenerHandle?, Transfer?) in
            guard state.connection == nil, !state.finished else { return (false, nil, nil) }
            state.connection = connection
            state.handler = handler
            defer { state.listener = nil }
            return (true, state.listener, takeStart(&state))
        }
        // A second connection, or one after the channel closed, is not wanted.
        guard accepted else { return connection.close() }
        listener?.stop()
        if let transfer { handler.start(transfer, on: connection) }
    }

    /// Runs `transfer` once the data connection is there; `done` hears how it ended and how
    /// many bytes it moved (nil if not known).
    func run(_ transfer: Transfer, done: @escaping @Sendable (Outcome, Int64?) -> Void) {
        let ready = state.withLock { state -> (any ConnectionContext, DataHandler, Transfer)? in
            state.pending = transfer
            state.done = done
            guard let connection = state.connection, let handler = state.handler, let transfer = takeStart(&state) else { return nil }
            return (connection, handler, transfer)
        }
        if let (connection, handler, transfer) = ready {
            connection.async { connection in handler.start(transfer, on: connection) }
        } else if let active {
            active.registry.connect(to: active.target, from: active.local,
                                    service: TCPService { [self] _ in DataHandler(self) }, timeout: timeout)
        } else {
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [self] in
                if state.withLock({ $0.connection == nil }) { finish(.noConnection, bytes: 0) }
            }
        }
    }

    private func takeStart(_ state: inout State) -> Transfer? {
        guard !state.started, let transfer = state.pending else { return nil }
        state.started = true
        state.pending = nil
        return transfer
    }

    /// Ends the transfer (once); an aborted one is reported broken whatever happened.
    func finish(_ outcome: Outcome, bytes: Int64?) {
        let (done, aborted, listener) = state.withLock { state -> ((@Sendable (Outcome, Int64?) -> Void)?, Bool, ListenerHandle?) in
            guard !state.finished else { return (nil, false, nil) }
            state.finished = true
            // The handler and the channel hold each other until here.
            state.handler = nil
            state.connection = nil
            defer { state.listener = nil }
            return (state.done, state.aborted, state.listener)
        }
        listener?.stop()
        done?(aborted ? .broken : outcome, bytes)
    }

    /// ABOR: true when a transfer was under way (its end is then reported as broken).
    func abort() -> Bool {
        let (running, connection) = state.withLock { state -> (Bool, (any ConnectionContext)?) in
            state.aborted = true
            return (state.done != nil && !state.finished, state.connection)
        }
        if let connection { connection.async { $0.close() } }
        if running && connection == nil { finish(.broken, bytes: 0) }
        return running
    }

    /// The control connection is done with this channel.
    func close() {
        let (listener, connection, running) = state.withLock { state in
            defer { state.listener = nil }
            return (state.listener, state.connection, state.done != nil && !state.finished)
        }
        listener?.stop()
        if running { _ = abort() } else if let connection { connection.async { $0.close() } }
    }

    private func expireIfUnused() {
        let listener = state.withLock { state -> ListenerHandle? in
            guard state.connection == nil, state.done == nil else { return nil }
            defer { state.listener = nil }
            return state.listener
        }
        listener?.stop()
    }
}
