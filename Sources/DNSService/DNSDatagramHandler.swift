import ServerCore

/// DNS over UDP: each datagram is one query, answered through the responder as it comes.
struct DNSDatagramHandler: DatagramHandler {
    let responder: DNSResponder

    func datagram(_ bytes: UnsafeRawBufferPointer, from remote: SocketAddress, reply: DatagramReply) {
        responder.respond(to: Array(bytes), from: ConnectionID(local: reply.local, remote: remote), over: .udp) { answer in
            if let answer { reply.send(answer.bytes, summary: answer.summary) }
        }
    }

    var log: DatagramLog? { responder.datagramLog }
}
