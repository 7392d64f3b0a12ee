import Dispatch
import Glibc

/// One request sent over UDP to one peer and repeated until it is answered: `tries` sends,
/// `interval` seconds apart, ending exactly once with the first reply that `accepts` takes,
/// or nil once the last try has had its interval (a socket error ends it at once). For
/// messages a protocol sends of its own accord (DNS's NOTIFY), not for answering peers.
///
/// The socket is new for every exchange and connected to the peer, so the kernel drops
/// datagrams from any other address or port. Confined to `queue`, hence `@unchecked
/// Sendable`; the sources hold the exchange until it ends, and the socket is closed once
/// the last cancel handler has run.
public final class DatagramExchange: @unchecked Sendable {
    private let message: [UInt8]
    private let peer: SocketAddress
    private let queue: DispatchQueue
    private let accepts: @Sendable ([UInt8]) -> Bool
    private var completion: (@Sendable ([UInt8]?) -> Void)?
    private var fd: Int32 = -1
    private var sources: [any DispatchSourceProtocol] = []
    private var sent = 0

    /// The queue exchanges run on unless one is given.
    public static let sharedQueue = DispatchQueue(label: "appserver.datagram-exchange")

    private init(message: [UInt8], peer: SocketAddress, queue: DispatchQueue, accepts: @escaping @Sendable ([UInt8]) -> Bool,
                 completion: @escaping @Sendable ([UInt8]?) -> Void) {
        self.message = message
        self.peer = peer
        self.queue = queue
        self.accepts = accepts
        self.completion = completion
    }

    /// Starts the exchange; `completion` runs on `queue` with the accepted reply, or nil.
    public static func send(_ message: [UInt8], to peer: SocketAddress, tries: Int, interval: Double,
                            queue: DispatchQueue = sharedQueue, accepts: @escaping @Sendable ([UInt8]) -> Bool,
                            completion: @escaping @Sendable ([UInt8]?) -> Void) {
        let exchange = DatagramExchange(message: message, peer: peer, queue: queue, accepts: accepts, completion: completion)
        queue.async { exchange.start(tries: max(1, tries), interval: interval) }
    }

    private func start(tries: Int, interval: Double) {
        assertOnQueue(queue)
        let fd = socket(peer.family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return finish(nil) }
        self.fd = fd
        let group = DispatchGroup()
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [self] in
            guard sent < tries else { return finish(nil) }
            sendOnce()
        }
        add(timer, to: group)
        let readable = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        readable.setEventHandler { [self] in receive() }
        add(readable, to: group)
        // Only now, with the group entered: a notify on an empty group runs at once.
        group.notify(queue: queue) { close(fd) }
        guard peer.withSockaddr({ connect(fd, $0, $1) }) == 0 else { return finish(nil) }
        sendOnce()
    }

    private func add(_ source: any DispatchSourceProtocol, to group: DispatchGroup) {
        group.enter()
        source.setCancelHandler { group.leave() }
        sources.append(source)
        source.activate()
    }

    private func sendOnce() {
        sent += 1
        let n = message.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        // ECONNREFUSED from an earlier try's ICMP error is the peer not listening yet: try again later.
        if n < 0 && errno != ECONNREFUSED && errno != EAGAIN && errno != EINTR { finish(nil) }
    }

    private func receive() {
        assertOnQueue(queue)
        var buffer = [UInt8](repeating: 0, count: 65_535)
        while completion != nil {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            // EAGAIN: drained; ECONNREFUSED: the peer's port is closed for now, the timer tries again.
            if n < 0 { return }
            let reply = Array(buffer[0..<n])
            if accepts(reply) { finish(reply) }
        }
    }

    private func finish(_ reply: [UInt8]?) {
        assertOnQueue(queue)
        guard let completion else { return }
        self.completion = nil
        sources.forEach { $0.cancel() }
        sources = []
        completion(reply)
    }
}
