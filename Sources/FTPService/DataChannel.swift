import Dispatch
import Logging
import ServerCore
import Synchronization

/// One transfer's data connection, as PASV/EPSV or PORT/EPRT set it up: a passive listener
/// that accepts only the control connection's own peer (anyone else is closed and the
/// listener keeps waiting), or an address to connect out to. Shared between the control
/// session, which runs a transfer on it, and the data connection's session, which carries
/// it out; the two reach each other only through the callbacks the data session's waits
/// hand over (`attach`, `started`), which the driver runs on the data connection's queue.
final class DataChannel: DataLink {
    enum Outcome: Sendable { case complete, broken, noConnection, localError, tlsFailed }

    typealias Done = @Sendable (Outcome, Int64?) -> Void
    /// Hands a completion to the data connection's session.
    typealias Resume = @Sendable (DataConnectionSession.Completion) -> Void

    /// Where the channel is, under its lock. The callbacks hold the data connection, and
    /// the connection the channel, until `finished` lets them go.
    private enum State {
        /// No data connection yet. `listener`: a passive one still open; `request`: the
        /// transfer to start once the connection comes.
        case waiting(listener: ListenerHandle?, request: (transfer: Transfer, done: Done)?)
        /// Connected, no transfer asked for yet: `resume` starts or stops it.
        case connected(resume: Resume)
        /// The transfer is with the data connection; `stop`, once it has begun, ends it;
        /// `aborted`: its end is reported as broken (and it is stopped when it begins).
        case transferring(stop: Resume?, done: Done, aborted: Bool)
        /// The data connection's TLS failed before a transfer was asked for: the transfer says so.
        case failed(Outcome)
        /// Ended (or closed, or aborted): nothing more is accepted or reported.
        case finished
    }

    private let state = Mutex(State.waiting(listener: nil, request: nil))
    /// How long the data connection may take to come, and may stall once it has.
    let timeout: Double
    /// PROT P: the data connection's TLS (scoped to the control connection's sessions).
    let tls: TLSServerContext?
    private let logger: Logger
    /// For an active channel: whom to connect to, from which address, through which registry.
    private let active: (target: SocketAddress, local: IPAddress, registry: ListenerRegistry)?

    private init(timeout: Double, tls: TLSServerContext?, logger: Logger, active: (SocketAddress, IPAddress, ListenerRegistry)?) {
        self.timeout = timeout
        self.tls = tls
        self.logger = logger
        self.active = active
    }

    /// Listens on `local` (a port in `ports`, or any) for the peer's data connection.
    static func passive(registry: ListenerRegistry, local: IPAddress, ports: ClosedRange<UInt16>?, peer: IPAddress,
                        timeout: Double, tls: TLSServerContext? = nil, logger: Logger) -> (DataChannel, SocketAddress)? {
        let channel = DataChannel(timeout: timeout, tls: tls, logger: logger, active: nil)
        let service = TCPService { id in
            DataConnectionSession.handler(DataAddress.sameHost(id.remote.ip, peer) ? channel : nil, logger: logger)
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

    static func active(registry: ListenerRegistry, target: SocketAddress, local: IPAddress, timeout: Double,
                       tls: TLSServerContext? = nil, logger: Logger) -> DataChannel {
        DataChannel(timeout: timeout, tls: tls, logger: logger, active: (target, local, registry))
    }

    /// The data connection has opened: `resume` hands it its transfer, or sends it away.
    func attach(_ resume: @escaping Resume) {
        let (accepted, listener, transfer) = state.withLock { state -> (Bool, ListenerHandle?, Transfer?) in
            guard case .waiting(let listener, let request) = state else { return (false, nil, nil) }
            if let request {
                state = .transferring(stop: nil, done: request.done, aborted: false)
            } else {
                state = .connected(resume: resume)
            }
            return (true, listener, request?.transfer)
        }
        // A second connection, or one after the channel closed, is not wanted.
        guard accepted else { return resume(.refused) }
        listener?.stop()
        if let transfer { resume(.start(transfer)) }
    }

    /// The data connection has begun the transfer: `stop` ends it early.
    func started(_ stop: @escaping Resume) {
        let stopNow = state.withLock { state -> Bool in
            guard case .transferring(nil, let done, let aborted) = state else { return false }
            if !aborted { state = .transferring(stop: stop, done: done, aborted: false) }
            return aborted
        }
        if stopNow { stop(.stop) }
    }

    /// Runs `transfer` once the data connection is there; `done` hears how it ended and how
    /// many bytes it moved (nil if not known).
    func run(_ transfer: Transfer, done: @escaping Done) {
        enum Next { case start(Resume), connect, waitForConnection, ended, failed(Outcome) }
        let next = state.withLock { state -> Next in
            switch state {
            case .waiting(let listener, nil):
                state = .waiting(listener: listener, request: (transfer, done))
                return active == nil ? .waitForConnection : .connect
            case .connected(let resume):
                state = .transferring(stop: nil, done: done, aborted: false)
                return .start(resume)
            case .failed(let outcome):
                state = .finished
                return .failed(outcome)
            case .waiting, .transferring, .finished:
                return .ended
            }
        }
        switch next {
        case .start(let resume):
            resume(.start(transfer))
        case .connect:
            guard let active else { return }
            let logger = logger
            active.registry.connect(to: active.target, from: active.local,
                                    service: TCPService { [self] _ in DataConnectionSession.handler(self, logger: logger) },
                                    timeout: timeout)
        case .waitForConnection:
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [self] in
                let waiting = state.withLock { if case .waiting = $0 { true } else { false } }
                if waiting { finish(.noConnection, bytes: 0) }
            }
        case .ended:
            // The data connection came and went before the transfer: there is none to use.
            if case .receive(let upload, _) = transfer { upload.abandon() }
            done(.noConnection, 0)
        case .failed(let outcome):
            if case .receive(let upload, _) = transfer { upload.abandon() }
            done(outcome, 0)
        }
    }

    /// Ends the transfer (once); an aborted one is reported broken whatever happened.
    func finish(_ outcome: Outcome, bytes: Int64?) {
        let (done, listener) = state.withLock { state -> (Done?, ListenerHandle?) in
            let was = state
            state = .finished
            switch was {
            case .waiting(let listener, let request):
                return (request?.done, listener)
            case .transferring(_, let done, let aborted):
                return (aborted ? { _, bytes in done(.broken, bytes) } : done, nil)
            case .connected:
                if outcome == .tlsFailed { state = .failed(outcome) }
                return (nil, nil)
            case .failed, .finished:
                return (nil, nil)
            }
        }
        listener?.stop()
        done?(outcome, bytes)
    }

    func abort() -> Bool {
        enum Found { case transfer(stop: Resume?), request, connection(Resume), nothing }
        let found = state.withLock { state -> Found in
            switch state {
            case .transferring(let stop, let done, _):
                state = .transferring(stop: stop, done: done, aborted: true)
                return .transfer(stop: stop)
            case .waiting(_, let request): return request == nil ? .nothing : .request
            case .connected(let resume): return .connection(resume)
            case .failed, .finished: return .nothing
            }
        }
        switch found {
        case .transfer(let stop):
            // Not yet begun: `started` stops it.
            stop?(.stop)
            return true
        case .request:
            finish(.broken, bytes: 0)
            return true
        case .connection(let resume):
            resume(.stop)
            return false
        case .nothing:
            return false
        }
    }

    func close() {
        enum Found { case listener(ListenerHandle?), connection(Resume), transfer(ListenerHandle?) }
        let found = state.withLock { state -> Found in
            switch state {
            case .waiting(let listener, let request):
                state = request == nil ? .finished : .waiting(listener: nil, request: request)
                return request == nil ? .listener(listener) : .transfer(listener)
            case .connected(let resume):
                state = .finished
                return .connection(resume)
            case .transferring: return .transfer(nil)
            case .failed, .finished:
                state = .finished
                return .listener(nil)
            }
        }
        switch found {
        case .listener(let listener): listener?.stop()
        case .connection(let resume): resume(.stop)
        case .transfer(let listener):
            listener?.stop()
            _ = abort()
        }
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
