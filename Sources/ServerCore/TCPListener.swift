import CSystem
import Dispatch
import Glibc

/// A listening socket whose Dispatch read source accepts until EAGAIN and hands each
/// connection, with its 4-tuple, to the registry.
final class TCPListener: @unchecked Sendable {
    let address: SocketAddress
    let service: TCPService
    private let fd: Int32
    private let source: any DispatchSourceRead
    private let queue: DispatchQueue
    private let wildcard: Bool
    /// Touched only on `queue`, the source's (the back-off timer runs there too).
    private var backingOff = false
    private let lifecycle = SourceLifecycle()

    /// Serves `fd`, a listening socket bound to `bound`, which it closes when stopped.
    init(fd: Int32, bound: SocketAddress, service: TCPService, queue: DispatchQueue,
         admit: @escaping @Sendable (Int32, ConnectionID, TCPService) -> Void) {
        self.fd = fd
        self.address = bound
        self.service = service
        self.queue = queue
        wildcard = bound.ip == .v4(0) || bound.ip == .v6(0, 0)
        source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        source.setEventHandler { [unowned self] in self.acceptAll(admit) }
        // The cancel handler holds the listener until Dispatch is done with the source.
        source.setCancelHandler { [self] in
            Glibc.close(fd)
            _ = self
        }
    }

    func start() { lifecycle.start(source) }

    func stop() { lifecycle.stop(source) }

    private func acceptAll(_ admit: (Int32, ConnectionID, TCPService) -> Void) {
        assertOnQueue(queue)
        guard !backingOff else { return }
        while true {
            var storage = sockaddr_storage()
            var length = UInt32(MemoryLayout<sockaddr_storage>.size)
            let client = csystem_accept(fd, &storage, &length)
            if client < 0 {
                let error = csystem_errno()
                if error == EINTR || error == ECONNABORTED { continue }
                if error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM {
                    backOff()
                }
                return
            }
            guard let remote = SocketAddress(storage: storage) else {
                Glibc.close(client)
                continue
            }
            var one: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let local = wildcard ? ((try? Socket.localAddress(client, fallback: address)) ?? address) : address
            admit(client, ConnectionID(local: local, remote: remote), service)
        }
    }

    /// Out of descriptors: stop accepting for a moment instead of spinning on the event.
    private func backOff() {
        backingOff = true
        source.suspend()
        queue.asyncAfter(deadline: .now() + .milliseconds(100)) { [self] in
            backingOff = false
            source.resume()
        }
    }
}
