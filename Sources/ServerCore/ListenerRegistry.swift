import Dispatch
import Glibc
import Synchronization

/// Binds ports for services and runs their connections on a few worker queues.
/// It knows nothing of any protocol: a service brings a handler factory per port.
///
/// Usage: `addTCP`/`addUDP` for every port (binding errors surface here, before anything
/// is served), then `start()`, and `shutdown` when asked to stop.
public final class ListenerRegistry: Sendable {
    private let workers: [Worker]
    private let limits: ConnectionLimits
    private let acceptQueue = DispatchQueue(label: "appserver.accept")
    private let datagramQueue = DispatchQueue(label: "appserver.datagram")
    private let state = Mutex(State())
    private let openConnections: Counter
    private let nextWorker = Atomic<Int>(0)

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

    /// Binds `address` for `service`; returns the address actually bound (port 0 resolved).
    @discardableResult
    public func addTCP(_ address: SocketAddress, service: TCPService) throws(SocketError) -> SocketAddress {
        let listener = try TCPListener(address: address, service: service, queue: acceptQueue) { [self] fd, id, service in
            admit(fd: fd, id: id, service: service)
        }
        state.withLock { $0.tcp.append(listener) }
        return listener.address
    }

    @discardableResult
    public func addUDP(_ address: SocketAddress, handler: any DatagramHandler) throws(SocketError) -> SocketAddress {
        let listener = try UDPListener(address: address, handler: handler, queue: datagramQueue)
        state.withLock { $0.udp.append(listener) }
        return listener.address
    }

    public func start() {
        for worker in workers { worker.queue.sync { worker.start() } }
        let (tcp, udp) = state.withLock { ($0.tcp, $0.udp) }
        tcp.forEach { $0.start() }
        udp.forEach { $0.start() }
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

    private func admit(fd: Int32, id: ConnectionID, service: TCPService) {
        if openConnections.value.add(1, ordering: .relaxed).newValue > limits.maxConnections {
            openConnections.value.subtract(1, ordering: .relaxed)
            if !service.busyReply.isEmpty {
                _ = service.busyReply.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            }
            Glibc.close(fd)
            return
        }
        let worker = workers[nextWorker.add(1, ordering: .relaxed).oldValue % workers.count]
        worker.queue.async { worker.adopt(fd: fd, id: id, service: service) }
    }
}
