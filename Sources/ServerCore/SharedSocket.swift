import CSystem
import Dispatch
import Glibc
import Synchronization

/// A listening socket (stream or datagram) in the epoll sets of one or more workers, so
/// that each accepts or reads it on its own queue and what it takes stays there, without a
/// hop. A port bound once per worker (SO_REUSEPORT, see `ListeningSocket.group`) has a
/// socket per worker, and the kernel spreads the load; a port handed in as one socket
/// (systemd) is in every worker's set, with EPOLLEXCLUSIVE. (Our sets are read through
/// Dispatch, never by a thread blocked in epoll_wait, so the kernel still tells every set;
/// the set that comes second finds the socket drained, and pays one wake-up, no syscall.)
/// The descriptor is closed once every worker has taken it out of its set.
final class SharedSocket: Sendable {
    let fd: Int32
    private let watches: [SocketWatch]
    private let state = Mutex((started: false, stopped: false))
    private let remaining: Atomic<Int>

    /// A worker's handler of a socket, called on that worker's queue when the socket is
    /// ready; made knowing the worker, the socket, and whether the worker is its only one.
    typealias Handler = (_ worker: Worker, _ fd: Int32, _ alone: Bool) -> @Sendable (SocketWatch) -> Void

    init(fd: Int32, workers: [Worker], ready: Handler) {
        self.fd = fd
        let events = UInt32(CSYSTEM_EPOLLIN) | (workers.count > 1 ? UInt32(CSYSTEM_EPOLLEXCLUSIVE) : 0)
        watches = workers.map { SocketWatch(worker: $0, fd: fd, events: events, ready: ready($0, fd, workers.count == 1)) }
        remaining = Atomic(workers.count)
    }

    /// The sockets of one address, each watched by its share of `workers`: a socket each
    /// while there are as many (more sockets than workers: some watch several), else every
    /// socket by several workers in turn (one socket: by all of them).
    static func spread(_ fds: [Int32], over workers: [Worker], ready: Handler) -> [SharedSocket] {
        fds.indices.map { index in
            let watchers = fds.count >= workers.count ? [workers[index % workers.count]]
                : stride(from: index, to: workers.count, by: fds.count).map { workers[$0] }
            return SharedSocket(fd: fds[index], workers: watchers, ready: ready)
        }
    }

    func start() {
        let starting = state.withLock { state in
            defer { state.started = true }
            return !state.started && !state.stopped
        }
        guard starting else { return }
        for watch in watches { watch.worker.queue.async { watch.add() } }
    }

    /// Takes the socket out of every set, then closes it (at once if it never started).
    func stop() {
        let wasStarted: Bool? = state.withLock { state in
            guard !state.stopped else { return nil }
            state.stopped = true
            return state.started
        }
        guard let wasStarted else { return }
        guard wasStarted else { return _ = Glibc.close(fd) }
        for watch in watches {
            watch.worker.queue.async { [self] in
                watch.remove()
                if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { Glibc.close(fd) }
            }
        }
    }
}

/// One worker's entry for a shared socket. Touched only on that worker's queue, hence
/// `@unchecked Sendable`.
final class SocketWatch: @unchecked Sendable {
    let worker: Worker
    private let fd: Int32
    private let events: UInt32
    private let handler: @Sendable (SocketWatch) -> Void
    private var key: UInt64?
    private var removed = false

    init(worker: Worker, fd: Int32, events: UInt32, ready: @escaping @Sendable (SocketWatch) -> Void) {
        self.worker = worker
        self.fd = fd
        self.events = events
        handler = ready
    }

    func ready() { handler(self) }

    func add() {
        assertOnQueue(worker.queue)
        guard !removed, key == nil else { return }
        key = worker.watch(fd, events: events, self)
    }

    func remove() {
        removed = true
        takeOut()
    }

    /// Out of descriptors: out of this worker's set for a moment, instead of woken at once
    /// again (EPOLLEXCLUSIVE cannot be modified, only removed and added).
    func backOff() {
        takeOut()
        worker.queue.asyncAfter(deadline: .now() + .milliseconds(100)) { [self] in add() }
    }

    private func takeOut() {
        assertOnQueue(worker.queue)
        guard let key else { return }
        worker.unwatch(key, fd: fd)
        self.key = nil
    }
}
