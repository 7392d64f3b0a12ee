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
    /// Where listeners accept: the first worker's own queue, so the connections it is given
    /// are adopted at once, without a hop to another thread (all of them with one worker).
    private let acceptQueue: DispatchQueue
    private let datagramQueue = DispatchQueue(label: "appserver.datagram")
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
        acceptQueue = made[0].queue
    }

    public var connectionCount: Int { openConnections.value.load(ordering: .relaxed) }

    /// Binds `address` for `service`; returns the address actually bound (port 0 resolved).
    @discardableResult
    public func addTCP(_ address: SocketAddress, service: TCPService) throws(SocketError) -> SocketAddress {
        let listener = try makeListener(address, service)
        state.withLock { $0.tcp.append(listener) }
        return listener.address
    }

    @discardableResult
    public func addUDP(_ address: SocketAddress, handler: any DatagramHandler) throws(SocketError) -> SocketAddress {
        let (fd, bound) = try Socket.bind(.datagram, address)
        return try adopt(ListeningSocket(name: "", fd: fd, datagrams: true, address: bound), handler: handler)
    }

    /// Serves a stream socket bound elsewhere (see `ListeningSocket`) as `addTCP` serves its own.
    public func adopt(_ socket: ListeningSocket, service: TCPService) {
        let listener = TCPListener(fd: socket.fd, bound: socket.address, service: service, queue: acceptQueue) { [self] fd, id, service in
            admit(fd: fd, id: id, service: service)
        }
        state.withLock { $0.tcp.append(listener) }
    }

    /// Serves a datagram socket bound elsewhere as `addUDP` serves its own.
    @discardableResult
    public func adopt(_ socket: ListeningSocket, handler: any DatagramHandler) throws(SocketError) -> SocketAddress {
        let listener = try UDPListener(fd: socket.fd, bound: socket.address, handler: handler, queue: datagramQueue)
        state.withLock { $0.udp.append(listener) }
        return listener.address
    }

    public func start() {
        started.store(true, ordering: .relaxed)
        for worker in workers { worker.queue.sync { worker.start() } }
        let (tcp, udp) = state.withLock { ($0.tcp, $0.udp) }
        tcp.forEach { $0.start() }
        udp.forEach { $0.start() }
    }

    /// A listener opened while serving (an FTP passive port): accepting at once, until the
    /// handle is stopped. It is the caller's to stop; shutdown does not.
    public func listen(_ address: SocketAddress, service: TCPService) throws(SocketError) -> ListenerHandle {
        let listener = try makeListener(address, service)
        if started.load(ordering: .relaxed) { listener.start() }
        return ListenerHandle(listener)
    }

    /// Connects out to `remote` (an FTP active data connection), from `local`'s address if
    /// given. The handler `service` makes either opens, or is closed with `.connectFailed`.
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

    private func makeListener(_ address: SocketAddress, _ service: TCPService) throws(SocketError) -> TCPListener {
        let (fd, bound) = try Socket.bind(.stream, address)
        return TCPListener(fd: fd, bound: bound, service: service, queue: acceptQueue) { [self] fd, id, service in
            admit(fd: fd, id: id, service: service)
        }
    }

    /// Counts an accepted connection in, or turns it away: the service's busy reply over the
    /// server-wide cap, its per-address reply over the per-address one.
    private func admit(fd: Int32, id: ConnectionID, service: TCPService) {
        if openConnections.value.add(1, ordering: .relaxed).newValue > limits.maxConnections {
            openConnections.value.subtract(1, ordering: .relaxed)
            return refuse(fd, id, service.busyReply, service, perAddress: false, why: "refused: the server is at its connection cap")
        }
        if let limit = service.perAddress, !limit.acquire(id.remote.ip) {
            openConnections.value.subtract(1, ordering: .relaxed)
            return refuse(fd, id, service.perAddressReply, service, perAddress: true, why: "refused: too many connections from this address")
        }
        handOver(fd: fd, id: id, service: service, connectTimeout: nil, onAcceptQueue: true)
    }

    private func refuse(_ fd: Int32, _ id: ConnectionID, _ reply: [UInt8], _ service: TCPService, perAddress: Bool, why: String) {
        if !reply.isEmpty {
            _ = reply.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        }
        Glibc.close(fd)
        service.observer?.refused(perAddress: perAddress)
        service.refused?(id, why)
    }

    /// Gives a counted-in socket to the next worker, round robin; at once when called on the
    /// accept queue and the turn is the first worker's, whose queue that is.
    private func handOver(fd: Int32, id: ConnectionID, service: TCPService, connectTimeout: Double?, onAcceptQueue: Bool = false) {
        let index = nextWorker.add(1, ordering: .relaxed).oldValue % workers.count
        let worker = workers[index]
        if onAcceptQueue && index == 0 {
            worker.adopt(fd: fd, id: id, service: service, connectTimeout: connectTimeout)
        } else {
            worker.queue.async { worker.adopt(fd: fd, id: id, service: service, connectTimeout: connectTimeout) }
        }
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
