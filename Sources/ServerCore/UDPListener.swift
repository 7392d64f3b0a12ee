import CSystem
import Dispatch
import Glibc

/// What a protocol plugs in for datagrams: called on the listener's queue for each one.
public protocol DatagramHandler: Sendable {
    func datagram(_ bytes: UnsafeRawBufferPointer, from remote: SocketAddress, reply: DatagramReply)
}

/// Sends an answer back to one datagram's sender, now or later, from any queue. An answer
/// given while its datagram's batch is being handled leaves with the others of the batch
/// in one sendmmsg; a later one (a forwarded query's, say) is sent alone. On a wildcard
/// socket the answer leaves from the address the query came to, as NSD and Unbound do: a
/// client drops an answer from another address than the one it asked.
public struct DatagramReply: Sendable {
    let fd: Int32
    /// The address the datagram came to (on a wildcard socket, the one the kernel reported).
    public let local: SocketAddress
    public let remote: SocketAddress
    /// The source to send from, when the socket is a wildcard one.
    let source: Source?
    let batch: ReplyBatch?
    let generation: UInt64

    struct Source: Sendable {
        let address: SocketAddress
        let scope: UInt32
    }

    public func send(_ bytes: [UInt8]) {
        if let batch, batch.add(bytes, to: remote, from: source, generation: generation) { return }
        UDPListener.send(fd, [(bytes, remote, source)])
    }
}

/// A UDP socket whose read source drains it with recvmmsg, up to 32 datagrams a call,
/// and answers each call's datagrams with one sendmmsg, until EAGAIN.
final class UDPListener: @unchecked Sendable {
    let address: SocketAddress
    private let fd: Int32
    private let source: any DispatchSourceRead
    private let queue: DispatchQueue
    private let lifecycle = SourceLifecycle()
    /// Touched only on the source's queue: a slot per datagram of a batch, large enough
    /// for any datagram, and the senders' addresses.
    private static let slotSize = 65_536
    private let slots = UnsafeMutableRawPointer.allocate(byteCount: Int(CSYSTEM_BATCH) * UDPListener.slotSize, alignment: 16)
    private var senders = [sockaddr_storage](repeating: sockaddr_storage(), count: Int(CSYSTEM_BATCH))
    private var destinations = [sockaddr_storage](repeating: sockaddr_storage(), count: Int(CSYSTEM_BATCH))
    private var lengths = [Int](repeating: 0, count: Int(CSYSTEM_BATCH))
    private let batch = ReplyBatch()

    /// Serves `fd`, a datagram socket bound to `bound`, which it closes when stopped (also
    /// when this throws).
    init(fd: Int32, bound: SocketAddress, handler: any DatagramHandler, queue: DispatchQueue) throws(SocketError) {
        if bound.isWildcard && csystem_want_destination(fd, bound.ip.isIPv6 ? 1 : 0) != 0 {
            let error = SocketError(.option, address: bound, errno: errno)
            Glibc.close(fd)
            throw error
        }
        self.fd = fd
        self.address = bound
        self.queue = queue
        source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        source.setEventHandler { [unowned self] in self.receiveAll(handler) }
        source.setCancelHandler { [self] in
            Glibc.close(fd)
            _ = self
        }
    }

    deinit { slots.deallocate() }

    func start() { lifecycle.start(source) }

    func stop() { lifecycle.stop(source) }

    private func receiveAll(_ handler: any DatagramHandler) {
        assertOnQueue(queue)
        while true {
            let count = csystem_receive_batch(fd, slots, UDPListener.slotSize, UInt32(CSYSTEM_BATCH), &senders, &destinations, &lengths)
            if count < 0 {
                if errno == EINTR { continue }
                return
            }
            let generation = batch.open()
            for i in 0..<Int(count) {
                guard lengths[i] >= 0, let remote = SocketAddress(storage: senders[i]) else { continue }
                let source = destination(i)
                handler.datagram(UnsafeRawBufferPointer(start: slots + i * UDPListener.slotSize, count: lengths[i]), from: remote,
                                 reply: DatagramReply(fd: fd, local: source?.address ?? address, remote: remote, source: source,
                                                      batch: batch, generation: generation))
            }
            UDPListener.send(fd, batch.close())
        }
    }

    /// The address datagram `i` came to, with the listener's port, where the kernel said.
    private func destination(_ i: Int) -> DatagramReply.Source? {
        guard let ip = SocketAddress(storage: destinations[i])?.ip else { return nil }
        let scope = withUnsafeBytes(of: &destinations[i]) { ip.isIPv6 ? $0.loadUnaligned(fromByteOffset: 24, as: UInt32.self) : 0 }
        return DatagramReply.Source(address: SocketAddress(ip: ip, port: address.port), scope: scope)
    }

    static func send(_ fd: Int32, _ replies: [(bytes: [UInt8], to: SocketAddress, from: DatagramReply.Source?)]) {
        guard !replies.isEmpty else { return }
        var data: [UInt8] = []
        var offsets: [Int] = [], sizes: [Int] = []
        var receivers: [sockaddr_storage] = [], receiverLengths: [UInt32] = [], sources: [sockaddr_storage] = []
        for reply in replies {
            offsets.append(data.count)
            sizes.append(reply.bytes.count)
            data.append(contentsOf: reply.bytes)
            receivers.append(reply.to.storage())
            receiverLengths.append(reply.to.length)
            sources.append(reply.from.map { $0.address.storage(scope: $0.scope) } ?? sockaddr_storage())
        }
        _ = csystem_send_batch(fd, data, offsets, sizes, receivers, receiverLengths, sources, UInt32(replies.count))
    }
}
