/// What a connection's TLS session settled on, for log lines and headers (SMTP's Received).
public struct TLSInfo: Sendable, Equatable {
    /// `TLSv1.3`, `TLSv1.2`.
    public var version: String
    public var cipher: String
    /// Resumed from a ticket or the session cache, without a full handshake.
    public var resumed: Bool
    /// The name the client asked for (SNI), if any.
    public var serverName: String?
    /// The protocol chosen by ALPN, if any.
    public var alpn: String?

    public init(version: String, cipher: String, resumed: Bool, serverName: String? = nil, alpn: String? = nil) {
        self.version = version
        self.cipher = cipher
        self.resumed = resumed
        self.serverName = serverName
        self.alpn = alpn
    }

    /// `TLSv1.3 TLS_AES_256_GCM_SHA384`, with ` resumed` when it was.
    public var summary: String { "\(version) \(cipher)\(resumed ? " resumed" : "")" }
}
