/// What a protocol plugs in for datagrams: called for each one on the queue of the worker
/// that read it, so on several queues at once when there are several workers.
public protocol DatagramHandler: Sendable {
    func datagram(_ bytes: UnsafeRawBufferPointer, from remote: SocketAddress, reply: DatagramReply)
    /// How answers are logged and timed (nil: not at all); read once, when the listener starts.
    var log: DatagramLog? { get }
}

extension DatagramHandler {
    public var log: DatagramLog? { nil }
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
    let log: DatagramLog?
    /// When the datagram's batch was read, by `log`'s clock (0 when untimed).
    let received: UInt64

    struct Source: Sendable {
        let address: SocketAddress
        let scope: UInt32
    }

    /// Sends `bytes`, with `head` (when given) written over their first two: a protocol
    /// sending a kept answer again under a new ID (DNS) need not copy it. `summary` (what
    /// the access line says of them) is logged and the answer timed when the handler's
    /// `log` wants it.
    public func send(_ bytes: [UInt8], head: (UInt8, UInt8)? = nil, summary: String? = nil) {
        if let log, log.isTimed, let summary {
            log.record(summary, size: bytes.count, ConnectionID(local: local, remote: remote), received: received)
        }
        let reply: ReplyBatch.Reply = (bytes, bytes.count >= 2 ? head : nil, remote, source)
        if let batch, batch.add(reply, generation: generation) { return }
        var buffers = SendBuffers()
        buffers.send(fd, [reply])
    }
}
