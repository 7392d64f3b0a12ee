/// A group of connections whose TLS sessions belong together, as FTP's control connection
/// and its data connections: a session issued on one resumes only on another of the same
/// scope (its bytes are the OpenSSL session id context), so a data connection that resumes
/// proves it comes from the client holding the control connection's session, as vsftpd's
/// `require_ssl_reuse` has it (vsftpd gets the isolation from a process per session).
public struct TLSSessionScope: Sendable, Equatable {
    /// At most SSL_MAX_SID_CTX_LENGTH (32) bytes.
    let bytes: [UInt8]

    /// A new scope, random: no other connection group shares it.
    public init() {
        var generator = SystemRandomNumberGenerator()
        bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}

extension TLSServerContext {
    /// The same certificates and settings, with the sessions of its connections kept to
    /// `scope`. `requiresResumption`: a handshake that resumes no session of the scope
    /// fails (the connection closes as a failed handshake). `requiresCloseNotify`: the
    /// peer's end of stream without close_notify is a failure rather than an end, so that
    /// a cut upload is not taken for a complete one.
    public func scoped(to scope: TLSSessionScope, requiresResumption: Bool = false,
                       requiresCloseNotify: Bool = false) -> TLSServerContext {
        TLSServerContext(scoping: parent ?? self, scope: scope, requiresResumption: requiresResumption,
                         requiresCloseNotify: requiresCloseNotify)
    }
}
