import CSystem
import Dispatch
import Glibc

/// The listening sockets of one address (a socket per worker, or one for all, see
/// `SharedSocket`), accepted from on the queues of the workers given: each hands the
/// connections it accepts, with their 4-tuples, to the registry on its own queue, and they
/// stay on that worker.
final class TCPListener: Sendable {
    let address: SocketAddress
    let service: TCPService
    private let sockets: [SharedSocket]

    /// Serves `fds`, listening sockets bound to `bound`, which it closes when stopped.
    init(fds: [Int32], bound: SocketAddress, service: TCPService, workers: [Worker],
         admit: @escaping @Sendable (Int32, ConnectionID, TCPService, Worker) -> Void) {
        address = bound
        self.service = service
        let wildcard = bound.ip == .v4(0) || bound.ip == .v6(0, 0)
        sockets = SharedSocket.spread(fds, over: workers) { worker, fd, alone in
            // Alone, a worker takes every waiting connection; beside others, one a wake-up,
            // so that a burst spreads over the workers free to take it (nginx without multi_accept).
            let perWake = alone ? Int.max : 1
            return { watch in
                TCPListener.accept(fd, bound, wildcard: wildcard, upTo: perWake, on: watch) { client, id in
                    admit(client, id, service, worker)
                }
            }
        }
    }

    func start() { sockets.forEach { $0.start() } }

    func stop() { sockets.forEach { $0.stop() } }

    private static func accept(_ fd: Int32, _ address: SocketAddress, wildcard: Bool, upTo limit: Int, on watch: SocketWatch,
                               _ admit: (Int32, ConnectionID) -> Void) {
        var accepted = 0
        while accepted < limit {
            var storage = sockaddr_storage()
            var length = UInt32(MemoryLayout<sockaddr_storage>.size)
            let client = csystem_accept(fd, &storage, &length)
            if client < 0 {
                let error = csystem_errno()
                if error == EINTR || error == ECONNABORTED { continue }
                // Out of descriptors: stop accepting for a moment instead of spinning on the event.
                if error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM { watch.backOff() }
                return
            }
            accepted += 1
            guard let remote = SocketAddress(storage: storage) else {
                Glibc.close(client)
                continue
            }
            var one: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let local = wildcard ? ((try? Socket.localAddress(client, fallback: address)) ?? address) : address
            admit(client, ConnectionID(local: local, remote: remote))
        }
    }
}
