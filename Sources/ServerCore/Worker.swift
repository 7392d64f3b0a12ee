import CSystem
import Dispatch
import Glibc
import Synchronization

/// A serial queue that owns an epoll set of connections, watched by one Dispatch read
/// source: ready sockets are served inline, in batches, on the worker's queue
/// (see shared/DESIGN.md for why this beats a source per socket on Linux).
///
/// All mutable state is touched only on `queue`, hence `@unchecked Sendable`.
final class Worker: @unchecked Sendable {
    let queue: DispatchQueue
    let epollFD: Int32
    let writeTimeout: UInt64
    let lingerTime: UInt64
    let handshakeTimeout: UInt64
    private let onClose: @Sendable () -> Void
    private var source: (any DispatchSourceRead)?
    private var sweeper: (any DispatchSourceTimer)?
    private(set) var connections: [UInt64: Connection] = [:]
    /// Listening sockets in this worker's set, beside the connections (keys never collide).
    private var watches: [UInt64: SocketWatch] = [:]
    private var nextKey: UInt64 = 1
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    private let events = UnsafeMutablePointer<csystem_event>.allocate(capacity: 256)
    /// Connections adopted and datagrams read here so far: which worker served what.
    let connectionsServed = Atomic<Int>(0)
    let datagramsServed = Atomic<Int>(0)
    /// Set on `queue`, so that the registry can tell it is called from this worker.
    static let identity = DispatchSpecificKey<ObjectIdentifier>()

    init(index: Int, limits: ConnectionLimits, onClose: @escaping @Sendable () -> Void) throws(SocketError) {
        queue = DispatchQueue(label: "appserver.worker.\(index)")
        epollFD = csystem_epoll_create()
        guard epollFD >= 0 else {
            throw SocketError(.socket, address: SocketAddress(ip: .v4(0), port: 0), errno: errno)
        }
        writeTimeout = UInt64(limits.writeTimeout * 1e9)
        lingerTime = UInt64(limits.lingerTime * 1e9)
        handshakeTimeout = UInt64(limits.handshakeTimeout * 1e9)
        self.onClose = onClose
        queue.setSpecific(key: Worker.identity, value: ObjectIdentifier(self))
    }

    deinit {
        Glibc.close(epollFD)
        readBuffer.deallocate()
        events.deallocate()
    }

    func start() {
        let source = DispatchSource.makeReadSource(fileDescriptor: epollFD, queue: queue)
        source.setEventHandler { [unowned self] in self.serveReady() }
        // Held by the cancel handler until Dispatch is done with the source (it closes epollFD).
        source.setCancelHandler { [self] in _ = self }
        source.activate()
        self.source = source
        let sweeper = DispatchSource.makeTimerSource(queue: queue)
        sweeper.schedule(deadline: .now() + 1, repeating: 1, leeway: .milliseconds(100))
        sweeper.setEventHandler { [unowned self] in self.sweep() }
        sweeper.activate()
        self.sweeper = sweeper
    }

    /// Stops watching; only once every connection is gone.
    func stop() {
        source?.cancel()
        sweeper?.cancel()
        source = nil
        sweeper = nil
    }

    func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Takes over an accepted socket, or one still connecting out (which opens, or fails,
    /// within `connectTimeout`); runs on `queue`.
    func adopt(fd: Int32, id: ConnectionID, service: TCPService, connectTimeout: Double? = nil) {
        assertOnQueue(queue)
        let key = nextKey
        nextKey += 1
        let connecting = connectTimeout != nil
        let interest = UInt32(connecting ? CSYSTEM_EPOLLOUT : CSYSTEM_EPOLLIN | CSYSTEM_EPOLLRDHUP)
        let connection = Connection(id: id, fd: fd, key: key, worker: self, interest: interest, connecting: connecting)
        connection.handler = service.makeHandler(id)
        connection.timeoutReply = service.timeoutReply
        connection.admission = service.perAddress
        connection.observer = service.observer
        connection.openedAt = now()
        service.observer?.opened()
        connections[key] = connection
        connectionsServed.add(1, ordering: .relaxed)
        guard csystem_epoll_add(epollFD, fd, interest, key) == 0 else {
            return close(connection, reason: connecting ? .connectFailed : .peerReset)
        }
        if let connectTimeout {
            connection.idleDeadline = now() + UInt64(connectTimeout * 1e9)
            if let target = service.clientTLS { connection.connectTLS(target) }
        } else if let tls = service.tls {
            connection.startImplicitTLS(tls.current, plaintextReply: service.plaintextReply)
        } else {
            connection.opened()
        }
    }

    /// Adds listening socket `fd` to this worker's set; nil if epoll refused it.
    func watch(_ fd: Int32, events: UInt32, _ watch: SocketWatch) -> UInt64? {
        assertOnQueue(queue)
        let key = nextKey
        nextKey += 1
        guard csystem_epoll_add(epollFD, fd, events, key) == 0 else { return nil }
        watches[key] = watch
        return key
    }

    func unwatch(_ key: UInt64, fd: Int32) {
        assertOnQueue(queue)
        guard watches.removeValue(forKey: key) != nil else { return }
        _ = csystem_epoll_remove(epollFD, fd)
    }

    func close(_ connection: Connection, reason: CloseReason) {
        assertOnQueue(queue)
        guard connections.removeValue(forKey: connection.key) != nil else { return }
        if connection.fd >= 0 {
            _ = csystem_epoll_remove(epollFD, connection.fd)
            Glibc.close(connection.fd)
        }
        connection.markClosed()
        connection.admission?.release(connection.id.remote.ip)
        connection.admission = nil
        connection.observer?.closed()
        let handler = connection.handler
        connection.handler = nil
        handler?.connectionClosed(connection, reason: reason)
        onClose()
    }

    func drainAll() {
        for connection in Array(connections.values) { connection.drain() }
    }

    /// Serves what is ready, and asks again while serving made more ready (the peers'
    /// next requests), up to a few rounds before letting the queue's other work in: each
    /// round saved is a Dispatch hand-off saved (the manager thread's epoll_wait, a futex
    /// wake of this queue's thread, an eventfd write to re-arm), which under load cost
    /// more than the requests.
    private func serveReady() {
        for _ in 0..<Worker.roundsPerWake {
            guard serveOnce() > 0 else { return }
        }
    }

    private static let roundsPerWake = 8

    private func serveOnce() -> Int32 {
        let count = csystem_epoll_wait(epollFD, events, 256, 0)
        guard count > 0 else { return 0 }
        for i in 0..<Int(count) {
            let event = events[i]
            guard let connection = connections[event.data] else {
                watches[event.data]?.ready()
                continue
            }
            let flags = event.events
            if connection.isConnecting {
                connection.finishConnecting()
                continue
            }
            if flags & UInt32(CSYSTEM_EPOLLERR) != 0 {
                close(connection, reason: .peerReset)
                continue
            }
            if flags & UInt32(CSYSTEM_EPOLLOUT) != 0 { connection.flush() }
            // TLS: a handshake or SSL_read that wanted the socket writable goes on.
            if flags & UInt32(CSYSTEM_EPOLLIN | CSYSTEM_EPOLLRDHUP | CSYSTEM_EPOLLHUP) != 0 || connection.tlsLayer?.readWantsWrite == true,
               connections[event.data] != nil {
                connection.readable(into: readBuffer)
            }
        }
        return count
    }

    private func sweep() {
        let now = now()
        for connection in Array(connections.values) {
            let deadline = connection.deadline
            guard deadline != 0 && now >= deadline else { continue }
            if connection.isConnecting { close(connection, reason: .connectFailed); continue }
            connection.sayTimedOut()
            // A handshake that did not finish in time failed, as one that broke does.
            close(connection, reason: connection.tlsLayer.map { !$0.established } ?? false ? .tlsFailed : .timeout)
        }
    }
}
