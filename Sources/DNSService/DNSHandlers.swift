import ServerCore

/// DNS over UDP: each datagram is one query.
struct DNSDatagramHandler: DatagramHandler {
    let responder: DNSResponder

    func datagram(_ bytes: UnsafeRawBufferPointer, from remote: SocketAddress, reply: DatagramReply) {
        responder.respond(to: Array(bytes), from: ConnectionID(local: reply.local, remote: remote), over: .udp) { bytes in
            if let bytes { reply.send(bytes) }
        }
    }
}

/// DNS over TCP (RFC 7766): two-byte length framing, several queries in flight on one
/// connection, each answered when ready, possibly out of order.
///
/// Confined to its connection's queue like the connection itself: answers that complete
/// elsewhere reach it only through `connection.async`, hence `@unchecked Sendable`.
final class DNSStreamHandler: ConnectionHandler, @unchecked Sendable {
    private let responder: DNSResponder
    private let idleTimeout: Double
    private var buffer: [UInt8] = []
    private var pending = 0
    private var peerClosed = false

    /// Queries answered at once per connection; past it, reading waits.
    static let maxPending = 32

    init(responder: DNSResponder, idleTimeout: Double) {
        self.responder = responder
        self.idleTimeout = idleTimeout
    }

    func connectionOpened(_ connection: Connection) {
        connection.setIdleTimeout(idleTimeout)
    }

    func connection(_ connection: Connection, received bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
        connection.setIdleTimeout(idleTimeout)
        takeQueries(connection)
    }

    func connectionReceivedEOF(_ connection: Connection) {
        peerClosed = true
        if pending == 0 { connection.closeAfterFlush() }
    }

    private func takeQueries(_ connection: Connection) {
        while buffer.count >= 2 && pending < DNSStreamHandler.maxPending {
            let length = Int(buffer[0]) << 8 | Int(buffer[1])
            guard buffer.count >= 2 + length else { break }
            let query = Array(buffer[2..<(2 + length)])
            buffer.removeFirst(2 + length)
            pending += 1
            responder.respond(to: query, from: connection.id, over: .tcp) { [self] bytes in
                // Forwarded answers complete on another queue: hop back to the connection's.
                connection.async { connection in self.answered(bytes, on: connection) }
            }
        }
        if pending >= DNSStreamHandler.maxPending { connection.pauseReading() } else { connection.resumeReading() }
    }

    private func answered(_ bytes: [UInt8]?, on connection: Connection) {
        if let bytes { connection.write([UInt8(bytes.count >> 8), UInt8(truncatingIfNeeded: bytes.count)] + bytes) }
        pending -= 1
        if peerClosed && pending == 0 && buffer.count < 2 { return connection.closeAfterFlush() }
        takeQueries(connection)
    }
}
