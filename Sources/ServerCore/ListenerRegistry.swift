import Dispatch
import Glibc
import Synchronization

/// Binds ports for services and runs their connections on a few worker queues.
/// It knows nothing of any protocol: a service brings a handler factory per port.
///
/// Usage: `addTCP`/`addUDP` for every port (binding errors surface here, before anything
/// is served), then `start()`, and `shutdown` when asked to stop.
public final class ListenerRegistry: Sendable {
    let workers: [Worker]
    private let limits: ConnectionLimits
    private let state = Mutex(State())
    private let openConnections: Counter
    private let nextWorker = Atomic<Int>(0)
    private let started = Atomic<Bool>(false)

    /// Shared with the workers, which count a connection out when it closes.
    private final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    private struct State {
        var tcp: [TCPListener] = []
        var udp: [UDPListener] = []
    }

    public init(workers: Int, limits: ConnectionLimits = ConnectionLimits()) throws(SocketError) {
        let counter = Counter()
        var made: [Worker] = []
        for index in 0..<max(1, workers) {
            made.append(try Worker(index: index, limits: limits) {
                counter.value.subtract(1, ordering: .relaxed)
            })
        }
        self.workers = made
        self.limits = limits
        openConnections = counter
    }

    public var connectionCount: Int { openConnections.value.load(ordering: .relaxed) }

    /// What each worker has served so far, in worker order (tests see the load spread).
    public var workerLoads: [WorkerLoad] {
        workers.map {
            WorkerLoad(connections: $0.connectionsServed.load(ordering: .relaxed), datagrams: $0.datagramsServed.load(ordering: .relaxed))
        }
    }

    /// Binds `address` for `service`, a socket per worker; returns the address actually
    /// bound (port 0 resolved).
    @discardableResult
    public func addTCP(_ address: SocketAddress, service: TCPService) throws(SocketError) -> SocketAddress {
        let sockets = try ListeningSocket.group(name: "", datagrams: false, address: address, count: workers.count)
        adopt(sockets, service: service)
        return sockets.first?.address ?? address
    }

    @discardableResult
    public func addUDP(_ address: SocketAddress, handler: any DatagramHandler) throws(SocketError) -> SocketAddress {
        let sockets = try ListeningSocket.group(name: "", datagrams: true, address: address, count: workers.count)
        try adopt(sockets, handler: handler)
        return sockets.first?.address ?? address
    }

    /// Serves stream sockets bound elsewhere (see `ListeningSocket`), all of one address, as
    /// `addTCP` serves its own: a socket per worker, or, fewer, shared (see `SharedSocket`).
    public func adopt(_ sockets: [ListeningSocket], service: TCPService) {
        guard let first = sockets.first else { return }
        let listener = makeListener(sockets.map(\.fd), first.address, service, on: workers)
        state.withLock { $0.tcp.append(listener) }
    }

    /// Serves datagram sockets bound elsewhere, all of one address, as `addUDP` serves its own.
    public func adopt(_ sockets: [ListeningSocket], handler: any DatagramHandler) throws(SocketError) {
        guard let first = sockets.first else { return }
        let listener = try UDPListener(fds: sockets.map(\.fd), bound: first.address, handler: handler, workers: workers)
        state.withLock { $0.udp.append(listener) }
    }

    public func start() {
        started.store(true, ordering: .relaxed)
        for worker in workers { worker.queue.sync { worker.start() } }
        let (tcp, udp) = state.withLock { ($0.tcp, $0.udp) }
        tcp.forEach { $0.start() }
        udp.forEach { $0.start() }
    }

    /// A listener opened while serving (an FTP passive port): accepting at once, until the
    /// handle is stopped. It is the caller's to stop; shutdown does not. Opened from a
    /// connection's worker, its connections land on that worker too.
    public func listen(_ address: SocketAddress, service: TCPService) throws(SocketError) -> ListenerHandle {
        let (fd, bound) = try Socket.bind(.stream, address)
        let listener = makeListener([fd], bound, service, on: currentWorker().map { [$0] } ?? workers)
        if started.load(ordering: .relaxed) { listener.start() }
        return ListenerHandle(listener)
    }

    /// Connects out to `remote` (an FTP active data connection), from `local`'s address if
    /// given; on the worker this is called from, if any. The handler `service` makes either opens, or is closed with `.connectFailed`.
    public func connect(to remote: SocketAddress, from local: IPAddress?, service: TCPService, timeout: Double) {
        let fd = socket(remote.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        let source = local.map { SocketAddress(ip: $0, port: 0) } ?? SocketAddress(ip: remote.ip.isIPv6 ? .v6(0, 0) : .v4(0), port: 0)
        var connected = fd >= 0
        if connected, local != nil {
            connected = source.withSockaddr { Glibc.bind(fd, $0, $1) } == 0
        }
        if connected {
            connected = remote.withSockaddr { Glibc.connect(fd, $0, $1) } == 0 || errno == EINPROGRESS
        }
        let bound = (connected ? try? Socket.localAddress(fd, fallback: source) : nil) ?? source
        let id = ConnectionID(local: bound, remote: remote)
        // A socket that could not even start connecting reaches the worker as -1, which it
        // cannot watch, so the handler hears of a failed connect like any other.
        let adopted = connected ? fd : -1
        if !connected && fd >= 0 { Glibc.close(fd) }
        openConnections.value.add(1, ordering: .relaxed)
        handOver(fd: adopted, id: id, service: service, connectTimeout: timeout)
    }

    /// Stops accepting, asks every connection to finish what it is doing, and calls
    /// `completion` once all are closed or `grace` seconds have passed.
    public func shutdown(grace: Double, completion: @escaping @Sendable () -> Void) {
        let (tcp, udp) = state.withLock { state in
            defer { state.tcp = []; state.udp = [] }
            return (state.tcp, state.udp)
        }
        tcp.forEach { $0.stop() }
        udp.forEach { $0.stop() }
        for worker in workers { worker.queue.async { worker.drainAll() } }
        let deadline = DispatchTime.now() + grace
        waitForConnections(until: deadline) { [workers] in
            for worker in workers { worker.queue.async { worker.stop() } }
            completion()
        }
    }

    private func waitForConnections(until deadline: DispatchTime, then done: @escaping @Sendable () -> Void) {
        if connectionCount == 0 || DispatchTime.now() >= deadline { return done() }
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(50)) { [self] in
            waitForConnections(until: deadline, then: done)
        }
    }

    private func makeListener(_ fds: [Int32], _ bound: SocketAddress, _ service: TCPService, on workers: [Worker]) -> TCPListener {
        TCPListener(fds: fds, bound: bound, service: service, workers: workers) { [self] fd, id, service, worker in
            admit(fd: fd, id: id, service: service, on: worker)
        }
    }

    private func currentWorker() -> Worker? {
        guard let identity = DispatchQueue.getSpecific(key: Worker.identity) else { return nil }
        return workers.first { ObjectIdentifier($0) == identity }
    }

    /// Counts an accepted connection in, or turns it away: the service's busy reply over the
    /// server-wide cap, its per-address reply over the per-address one. Runs on the queue of
    /// `worker`, which accepted it and keeps it (both counts are shared by every worker).
    private func admit(fd: Int32, id: ConnectionID, service: TCPService, on worker: Worker) {
        if openConnections.value.add(1, ordering: .relaxed).newValue > limits.maxConnections {
            openConnections.value.subtract(1, ordering: .relaxed)
            return refuse(fd, id, service.busyReply, service, perAddress: false, why: "refused: the server is at its connection cap")
        }
        if let limit = service.perAddress, !limit.acquire(id.remote.ip) {
            openConnections.value.subtract(1, ordering: .relaxed)
            return refuse(fd, id, service.perAddressReply, service, perAddress: true, why: "refused: too many connections from this address")
        }
        worker.adopt(fd: fd, id: id, service: service)
    }

    private func refuse(_ fd: Int32, _ id: ConnectionID, _ reply: [UInt8], _ service: TCPService, perAddress: Bool, why: String) {
        if !reply.isEmpty {
            _ = reply.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        }
        Glibc.close(fd)
        service.observer?.refused(perAddress: perAddress)
        service.refused?(id, why)
    }

    /// Gives a counted-in socket still connecting to the worker this is called from, else
    /// to the next one, round robin; after the caller's turn, which may be a handler's.
    private func handOver(fd: Int32, id: ConnectionID, service: TCPService, connectTimeout: Double) {
        let worker = currentWorker() ?? workers[nextWorker.add(1, ordering: .relaxed).oldValue % workers.count]
        worker.queue.async { worker.adopt(fd: fd, id: id, service: service, connectTimeout: connectTimeout) }
    }
}

/// A listener opened while serving; `stop` closes it.
public final class ListenerHandle: Sendable {
    private let listener: TCPListener
    public var address: SocketAddress { listener.address }

    init(_ listener: TCPListener) {
        self.listener = listener
    }

    public func stop() { listener.stop() }
}

/// What one worker has served so far.
public struct WorkerLoad: Sendable, Equatable {
    public let connections: Int
    public let datagrams: Int

    public init(connections: Int, datagrams: Int) {
        self.connections = connections
        self.datagrams = datagrams
    }
}
