import CSystem
import Dispatch
import Glibc

/// What a protocol plugs in for datagrams: called on the listener's queue for each one.
public protocol DatagramHandler: Sendable {
    func datagram(_ bytes: UnsafeRawBufferPointer, from remote: SocketAddress, reply: DatagramReply)
}

/// Sends an answer back to one datagram's sender, now or later, from any queue. An answer
/// given while its datagram's batch is being handled leaves with the others of the batch
/// in one sendmmsg; a later one (a forwarded query's, say) is sent alone.
public struct DatagramReply: Sendable {
    let fd: Int32
    public let local: SocketAddress
    public let remote: SocketAddress
    let batch: ReplyBatch?
    let generation: UInt64

    public func send(_ bytes: [UInt8]) {
        if let batch, batch.add(bytes, to: remote, generation: generation) { return }
        _ = bytes.withUnsafeBytes { raw in
            remote.withSockaddr { sendto(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL), $0, $1) }
        }
    }
}

/// A UDP socket whose read source drains it with recvmmsg, up to 32 datagrams a call,
/// and answers each call's datagrams with one sendmmsg, until EAGAIN.
final class UDPListener: @unchecked Sendable {
    let address: SocketAddress
    private let fd: Int32
    private let source: any DispatchSourceRead
    private let lifecycle = SourceLifecycle()
    /// Touched only on the source's queue: a slot per datagram of a batch, large enough
    /// for any datagram, and the senders' addresses.
    private static let slotSize = 65_536
    private let slots = UnsafeMutableRawPointer.allocate(byteCount: Int(CSYSTEM_BATCH) * UDPListener.slotSize, alignment: 16)
    private var senders = [sockaddr_storage](repeating: sockaddr_storage(), count: Int(CSYSTEM_BATCH))
    private var lengths = [Int](repeating: 0, count: Int(CSYSTEM_BATCH))
    private let batch = ReplyBatch()

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

    deinit { slots.deallocate() }

    func start() { lifecycle.start(source) }

    func stop() { lifecycle.stop(source) }

    private func receiveAll(_ handler: any DatagramHandler) {
        while true {
            let count = csystem_receive_batch(fd, slots, UDPListener.slotSize, UInt32(CSYSTEM_BATCH), &senders, &lengths)
            if count < 0 {
                if errno == EINTR { continue }
                return
            }
            let generation = batch.open()
            for i in 0..<Int(count) {
                guard lengths[i] >= 0, let remote = SocketAddress(storage: senders[i]) else { continue }
                handler.datagram(UnsafeRawBufferPointer(start: slots + i * UDPListener.slotSize, count: lengths[i]), from: remote,
                                 reply: DatagramReply(fd: fd, local: address, remote: remote, batch: batch, generation: generation))
            }
            send(batch.close())
        }
    }

    private func send(_ replies: [(bytes: [UInt8], to: SocketAddress)]) {
        guard !replies.isEmpty else { return }
        var data: [UInt8] = []
        var offsets: [Int] = [], sizes: [Int] = []
        var receivers: [sockaddr_storage] = [], receiverLengths: [UInt32] = []
        for reply in replies {
            offsets.append(data.count)
            sizes.append(reply.bytes.count)
            data.append(contentsOf: reply.bytes)
            var storage = sockaddr_storage()
            let length = reply.to.withSockaddr { address, length in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(length))) }
                return UInt32(length)
            }
            receivers.append(storage)
            receiverLengths.append(length)
        }
        _ = csystem_send_batch(fd, data, offsets, sizes, receivers, receiverLengths, UInt32(replies.count))
    }
}
