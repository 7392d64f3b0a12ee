import CSystem
import Dispatch
import Glibc

/// The UDP sockets of one address (a socket per worker, or one for all, see
/// `SharedSocket`), read on the queues of the workers given, each with its own buffers:
/// recvmmsg takes up to 32 datagrams a call, and each call's answers leave together in one
/// sendmmsg.
final class UDPListener: Sendable {
    private let sockets: [SharedSocket]

    /// Serves `fds`, datagram sockets bound to `bound`, which it closes when stopped (also
    /// when this throws).
    init(fds: [Int32], bound: SocketAddress, handler: any DatagramHandler, workers: [Worker]) throws(SocketError) {
        if bound.isWildcard, fds.contains(where: { csystem_want_destination($0, bound.ip.isIPv6 ? 1 : 0) != 0 }) {
            let error = SocketError(.option, address: bound, errno: errno)
            fds.forEach { _ = Glibc.close($0) }
            throw error
        }
        sockets = SharedSocket.spread(fds, over: workers) { worker, fd, alone in
            // Alone, a worker reads until its socket is empty; beside others, one batch a
            // wake-up, so that the next batch goes to whichever worker is free first.
            let reader = DatagramReader(fd: fd, address: bound, worker: worker, log: handler.log)
            return { _ in reader.receive(handler, drains: alone) }
        }
    }

    func start() { sockets.forEach { $0.start() } }

    func stop() { sockets.forEach { $0.stop() } }
}

/// The arrays sendmmsg is given, kept from one batch to the next so that answering a
/// batch allocates nothing once they have grown to its size.
struct SendBuffers {
    private var data: [UInt8] = []
    private var offsets: [Int] = [], sizes: [Int] = []
    private var receivers: [sockaddr_storage] = [], receiverLengths: [UInt32] = [], sources: [sockaddr_storage] = []

    mutating func send(_ fd: Int32, _ replies: [ReplyBatch.Reply]) {
        guard !replies.isEmpty else { return }
        data.removeAll(keepingCapacity: true)
        offsets.removeAll(keepingCapacity: true)
        sizes.removeAll(keepingCapacity: true)
        receivers.removeAll(keepingCapacity: true)
        receiverLengths.removeAll(keepingCapacity: true)
        sources.removeAll(keepingCapacity: true)
        for reply in replies {
            offsets.append(data.count)
            sizes.append(reply.bytes.count)
            data.append(contentsOf: reply.bytes)
            if let head = reply.head {
                data[offsets[offsets.count - 1]] = head.0
                data[offsets[offsets.count - 1] + 1] = head.1
            }
            receivers.append(reply.to.storage())
            receiverLengths.append(reply.to.length)
            sources.append(reply.from.map { $0.address.storage(scope: $0.scope) } ?? sockaddr_storage())
        }
        _ = csystem_send_batch(fd, data, offsets, sizes, receivers, receiverLengths, sources, UInt32(replies.count))
    }
}

/// One worker's buffers for a UDP socket: a slot per datagram of a batch, large enough for
/// any datagram, and the senders' and destinations' addresses. Touched only on the
/// worker's queue, hence `@unchecked Sendable`.
final class DatagramReader: @unchecked Sendable {
    private static let slotSize = 65_536
    private let fd: Int32
    private let address: SocketAddress
    private let worker: Worker
    private let slots = UnsafeMutableRawPointer.allocate(byteCount: Int(CSYSTEM_BATCH) * DatagramReader.slotSize, alignment: 16)
    private var senders = [sockaddr_storage](repeating: sockaddr_storage(), count: Int(CSYSTEM_BATCH))
    private var destinations = [sockaddr_storage](repeating: sockaddr_storage(), count: Int(CSYSTEM_BATCH))
    private var lengths = [Int](repeating: 0, count: Int(CSYSTEM_BATCH))
    private let batch = ReplyBatch()
    private let log: DatagramLog?
    private var replies: [ReplyBatch.Reply] = []
    private var buffers = SendBuffers()

    init(fd: Int32, address: SocketAddress, worker: Worker, log: DatagramLog?) {
        self.fd = fd
        self.log = log
        self.address = address
        self.worker = worker
    }

    deinit { slots.deallocate() }

    func receive(_ handler: any DatagramHandler, drains: Bool) {
        assertOnQueue(worker.queue)
        while true {
            let count = csystem_receive_batch(fd, slots, DatagramReader.slotSize, UInt32(CSYSTEM_BATCH), &senders, &destinations, &lengths)
            if count < 0 {
                if errno == EINTR { continue }
                return
            }
            worker.datagramsServed.add(Int(count), ordering: .relaxed)
            let generation = batch.open()
            let received = log?.isTimed == true ? log?.clock() ?? 0 : 0
            for i in 0..<Int(count) {
                guard lengths[i] >= 0, let remote = SocketAddress(storage: senders[i]) else { continue }
                let source = destination(i)
                handler.datagram(UnsafeRawBufferPointer(start: slots + i * DatagramReader.slotSize, count: lengths[i]), from: remote,
                                 reply: DatagramReply(fd: fd, local: source?.address ?? address, remote: remote, source: source,
                                                      batch: batch, generation: generation, log: log, received: received))
            }
            batch.close(into: &replies)
            buffers.send(fd, replies)
            if !drains || count < CSYSTEM_BATCH { return }
        }
    }

    /// The address datagram `i` came to, with the listener's port, where the kernel said.
    private func destination(_ i: Int) -> DatagramReply.Source? {
        guard let ip = SocketAddress(storage: destinations[i])?.ip else { return nil }
        let scope = withUnsafeBytes(of: &destinations[i]) { ip.isIPv6 ? $0.loadUnaligned(fromByteOffset: 24, as: UInt32.self) : 0 }
        return DatagramReply.Source(address: SocketAddress(ip: ip, port: address.port), scope: scope)
    }
}
