import Dispatch
import Glibc

/// What a protocol plugs in for datagrams: called on the listener's queue for each one.
public protocol DatagramHandler: Sendable {
    func datagram(_ bytes: UnsafeRawBufferPointer, from remote: SocketAddress, reply: DatagramReply)
}

/// Sends an answer back to one datagram's sender, now or later, from any queue.
public struct DatagramReply: Sendable {
    let fd: Int32
    public let local: SocketAddress
    public let remote: SocketAddress

    public func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { raw in
            remote.withSockaddr { sendto(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL), $0, $1) }
        }
    }
}

/// A UDP socket whose read source drains `recvfrom` until EAGAIN.
final class UDPListener: @unchecked Sendable {
    let address: SocketAddress
    private let fd: Int32
    private let source: any DispatchSourceRead
    /// Touched only on the source's queue.
    private var buffer = [UInt8](repeating: 0, count: 65_536)
    private let lifecycle = SourceLifecycle()

    init(address: SocketAddress, handler: any DatagramHandler, queue: DispatchQueue) throws(SocketError) {
        let (fd, bound) = try Socket.bind(.datagram, address)
        self.fd = fd
        self.address = bound
        source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        source.setEventHandler { [unowned self] in self.receiveAll(handler) }
        source.setCancelHandler { [self] in
            Glibc.close(fd)
            _ = self
        }
    }

    func start() { lifecycle.start(source) }

    func stop() { lifecycle.stop(source) }

    private func receiveAll(_ handler: any DatagramHandler) {
        let fd = fd
        let local = address
        buffer.withUnsafeMutableBytes { raw in
            while true {
                var storage = sockaddr_storage()
                var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let n = withUnsafeMutablePointer(to: &storage) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        recvfrom(fd, raw.baseAddress, raw.count, 0, $0, &length)
                    }
                }
                if n < 0 {
                    if errno == EINTR { continue }
                    return
                }
                guard let remote = SocketAddress(storage: storage) else { continue }
                handler.datagram(UnsafeRawBufferPointer(rebasing: raw[0..<n]), from: remote,
                                 reply: DatagramReply(fd: fd, local: local, remote: remote))
            }
        }
    }
}
