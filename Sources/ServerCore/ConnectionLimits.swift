/// Bounds the registry applies to every TCP connection, whatever the protocol.
public struct ConnectionLimits: Sendable {
    /// Open connections across all services; one more is sent the service's busy reply and closed.
    public var maxConnections: Int
    /// How long queued output may wait for the peer to read before the connection is dropped.
    public var writeTimeout: Double
    /// How long a closing connection keeps reading (and dropping) input so the peer sees the reply.
    public var lingerTime: Double
    /// How long a TLS handshake may take (a handshake holds a place under the connection cap).
    public var handshakeTimeout: Double

    public init(maxConnections: Int = 10_000, writeTimeout: Double = 60, lingerTime: Double = 2, handshakeTimeout: Double = 10) {
        self.maxConnections = maxConnections
        self.writeTimeout = writeTimeout
        self.lingerTime = lingerTime
        self.handshakeTimeout = handshakeTimeout
    }
}
