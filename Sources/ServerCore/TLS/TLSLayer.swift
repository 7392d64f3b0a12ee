/// A connection's TLS state beside its socket: waiting to start (STARTTLS asked, output
/// queued before it still to go in plaintext), then the session. One optional on the
/// connection, so the plaintext path pays one check. Confined to the connection's worker
/// queue like the connection itself, hence `@unchecked Sendable`.
final class TLSLayer: @unchecked Sendable {
    /// The size of a file chunk read and encrypted at a time when kernel TLS is off.
    static let fileChunk = 16 * 1024

    /// Set until the session starts: the context `startTLS` asked for.
    var waiting: TLSServerContext?
    var stream: TLSStream?
    /// An outbound connection still connecting: the peer it will handshake with as a client.
    var client: TLSClientTarget?
    /// The handler has not been told the connection opened (implicit TLS: after the handshake).
    var opensHandler: Bool
    /// The first byte has been looked at (a TLS handshake record, or plaintext).
    var checkedFirstByte = false
    /// SSL_read (or the handshake) wants the socket writable; SSL_write wants it readable.
    var readWantsWrite = false
    var writeWantsRead = false
    /// A read is queued for input OpenSSL holds (the socket will not signal it).
    var readScheduled = false
    /// The last SSL_read wanted more from the socket: what OpenSSL holds is part of a record,
    /// and epoll signals the rest, so no read is queued for it.
    var readWantsInput = false
    /// A file chunk read for SSL_write and not all taken yet (retried with the same bytes).
    var chunk: [UInt8] = []
    var chunkSent = 0
    /// Sent as plaintext, then the connection closed, when the first byte is not a TLS record.
    let plaintextReply: [UInt8]

    init(starting context: TLSServerContext?, opensHandler: Bool, plaintextReply: [UInt8]) {
        waiting = context
        self.opensHandler = opensHandler
        self.plaintextReply = plaintextReply
    }

    var established: Bool { stream?.established ?? false }
}
