import ServerCore

/// DNS over UDP: each datagram is one query, answered through the responder as it comes.
struct DNSDatagramHandler: DatagramHandler {
    let responder: DNSResponder

    func datagram(_ bytes: UnsafeRawBufferPointer, from remote: SocketAddress, reply: DatagramReply) {
        // `answer` rather than `respond`: an answer given now needs no closure (an allocation per query).
        switch responder.answer(Array(bytes), from: ConnectionID(local: reply.local, remote: remote), over: .udp) {
        case .now(let answer): if let answer { DNSDatagramHandler.send(answer, reply) }
        case .upstream(let begin): begin { DNSDatagramHandler.send($0, reply) }
        // Never over UDP: `transfer` answers those at once.
        case .stream: break
        }
    }

    private static func send(_ answer: DNSResponder.Answer, _ reply: DatagramReply) {
        reply.send(answer.encoded, head: answer.id, summary: answer.summary)
    }

    var log: DatagramLog? { responder.datagramLog }
}
