import CSystem
import Dispatch
import Glibc
import Synchronization

/// A listening socket (stream or datagram) in the epoll sets of several workers, so that
/// each accepts or reads it on its own queue and what it takes stays there, without a hop.
/// With more than one worker each adds it with EPOLLEXCLUSIVE. (Our sets are read through
/// Dispatch, never by a thread blocked in epoll_wait, so the kernel still tells every set;
/// the set that comes second finds the socket drained, and pays one wake-up, no syscall.)
/// The descriptor is closed once every worker has taken it out of its set.
final class SharedSocket: Sendable {
    let fd: Int32
    private let watches: [SocketWatch]
    private let state = Mutex((started: false, stopped: false))
    private let remaining: Atomic<Int>

    /// `ready` makes each worker's handler, called on that worker's queue when `fd` is ready.
    init(fd: Int32, workers: [Worker], ready: (Worker) -> @Sendable (SocketWatch) -> Void) {
        self.fd = fd
        let events = UInt32(CSYSTEM_EPOLLIN) | (workers.count > 1 ? UInt32(CSYSTEM_EPOLLEXCLUSIVE) : 0)
        watches = workers.map { SocketWatch(worker: $0, fd: fd, events: events, ready: ready($0)) }
        remaining = Atomic(workers.count)
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
