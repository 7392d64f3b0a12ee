import ServerCore

/// DNS over UDP: each datagram is one query, answered through the responder as it comes.
struct DNSDatagramHandler: DatagramHandler {
    let responder: DNSResponder

    func datagram(_ bytes: UnsafeRawBufferPointer, from remote: SocketAddress, reply: DatagramReply) {
        responder.respond(to: Array(bytes), from: ConnectionID(local: reply.local, remote: remote), over: .udp) { bytes in
            if let bytes { reply.send(bytes) }
        }
    }
}
