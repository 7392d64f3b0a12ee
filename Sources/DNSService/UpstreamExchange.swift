import Dispatch
import Glibc
import ServerCore

/// One query to one upstream server, over UDP or TCP, ending exactly once: with a reply
/// that matches the query's ID and question, or with nil (timeout, error, closed).
///
/// The UDP socket is new for every query and connected to the upstream, so its source
/// port is random and the kernel drops datagrams from any other address or port; with a
/// random ID and the question checked, that is RFC 5452's defence against spoofing.
/// Confined to the forwarder's serial queue (`queue`), hence `@unchecked Sendable`: every
/// method runs there, as `assertOnQueue` checks in debug builds. The sources hold the exchange until it ends
/// (the timer guarantees it does), then are cancelled, and the socket is closed once the
/// last cancel handler has run. A TCP connect is watched by a write source on a second
/// descriptor (a dup): libdispatch on Linux loses a read source's events when a write
/// source on the same descriptor is cancelled.
final class UpstreamExchange: @unchecked Sendable {
    enum Transport { case udp, tcp }

    private let query: DNSMessage
    private let upstream: SocketAddress
    private let transport: Transport
    private let queue: DispatchQueue
    private var completion: ((DNSMessage?) -> Void)?
    private var fd: Int32 = -1
    private var sources: [any DispatchSourceProtocol] = []
    /// The TCP reply's framing.
    private var framer = LengthPrefixFramer()

    init(query: DNSMessage, upstream: SocketAddress, transport: Transport, queue: DispatchQueue,
         completion: @escaping (DNSMessage?) -> Void) {
        self.query = query
        self.upstream = upstream
        self.transport = transport
        self.queue = queue
        self.completion = completion
    }

    func start(timeout: Double) {
        assertOnQueue(queue)
        let type = (transport == .udp ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue))
            | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(upstream.ip.isIPv6 ? AF_INET6 : AF_INET, type, 0)
        guard fd >= 0 else { return finish(nil) }
        self.fd = fd
        let connectFD = transport == .tcp ? dup(fd) : -1
        let group = DispatchGroup()
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + timeout)
        timer.setEventHandler { self.finish(nil) }
        add(timer, to: group)
        group.notify(queue: queue) {
            close(fd)
            if connectFD >= 0 { close(connectFD) }
        }

        guard upstream.withSockaddr({ connect(fd, $0, $1) }) == 0 || errno == EINPROGRESS else { return finish(nil) }
        if transport == .udp {
            guard send(framed: false) else { return finish(nil) }
        } else {
            guard connectFD >= 0 else { return finish(nil) }
            let writable = DispatchSource.makeWriteSource(fileDescriptor: connectFD, queue: queue)
            writable.setEventHandler {
                writable.cancel()
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                if error != 0 || !self.send(framed: true) { self.finish(nil) }
            }
            add(writable, to: group)
        }
        let readable = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        readable.setEventHandler { self.receive() }
        add(readable, to: group)
    }

    private func add(_ source: any DispatchSourceProtocol, to group: DispatchGroup) {
        assertOnQueue(queue)
        group.enter()
        source.setCancelHandler { group.leave() }
        sources.append(source)
        source.activate()
    }

    private func send(framed: Bool) -> Bool {
        assertOnQueue(queue)
        let message = query.encode()
        guard let bytes = framed ? LengthPrefixFramer.frame(message) : message else { return false }
        let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        return n == bytes.count
    }

    private func receive() {
        assertOnQueue(queue)
        var buffer = [UInt8](repeating: 0, count: 65_535)
        while completion != nil {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN { return }
            if n <= 0 { return finish(nil) }
            if transport == .udp {
                if let reply = matching(Array(buffer[0..<n])) { finish(reply) }
                continue
            }
            buffer.withUnsafeBytes { framer.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            if case .message(let reply) = framer.next() { finish(matching(reply)) }
        }
    }

    /// The reply if it answers our query; anything else is ignored.
    private func matching(_ bytes: [UInt8]) -> DNSMessage? {
        guard let reply = try? DNSMessage.decode(bytes), reply.isResponse, reply.id == query.id,
              reply.questions == query.questions else { return nil }
        return reply
    }

    private func finish(_ reply: DNSMessage?) {
        assertOnQueue(queue)
        guard let completion else { return }
        self.completion = nil
        sources.forEach { $0.cancel() }
        sources = []
        completion(reply)
    }
}
