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

/// DNS over TCP (RFC 7766): several queries in flight on one connection, each answered
/// when ready, possibly out of order. The framing and the bounds are `DNSStream`'s.
///
/// Confined to its connection's queue like the connection itself: answers that complete
/// elsewhere reach it only through `connection.async`, hence `@unchecked Sendable`.
final class DNSStreamHandler: ConnectionHandler, @unchecked Sendable {
    private let responder: DNSResponder
    private let idleTimeout: Double
    private var stream = DNSStream()

    init(responder: DNSResponder, idleTimeout: Double) {
        self.responder = responder
        self.idleTimeout = idleTimeout
    }

    func connectionOpened(_ connection: any ConnectionContext) {
        connection.setIdleTimeout(idleTimeout)
    }

    func connection(_ connection: any ConnectionContext, received bytes: UnsafeRawBufferPointer) {
        stream.received(bytes)
        connection.setIdleTimeout(idleTimeout)
        takeQueries(connection)
    }

    func connectionReceivedEOF(_ connection: any ConnectionContext) {
        stream.receivedEOF()
        if stream.isFinished { connection.closeAfterFlush() }
    }

    /// The output a peer left unread has gone: the queries kept waiting can start.
    func connectionWritable(_ connection: any ConnectionContext) {
        takeQueries(connection)
    }

    /// Starts what the bounds allow, checked again after every answer (`answered` comes
    /// back here); reads on only when no whole query waits.
    private func takeQueries(_ connection: any ConnectionContext) {
        while let query = stream.nextQuery(queuedOutput: connection.pendingOutputBytes) {
            responder.respond(to: query, from: connection.id, over: .tcp) { [self] bytes in
                // Forwarded answers complete on another queue: hop back to the connection's.
                connection.async { connection in self.answered(bytes, on: connection) }
            }
        }
        if stream.isFinished { return connection.closeAfterFlush() }
        if stream.wantsInput { return connection.resumeReading() }
        connection.pauseReading()
        if stream.waitsForOutput { connection.notifyWhenWritable() }
    }

    private func answered(_ bytes: [UInt8]?, on connection: any ConnectionContext) {
        if let framed = stream.answered(bytes) { connection.write(framed) }
        takeQueries(connection)
    }
}
