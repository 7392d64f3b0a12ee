import COpenSSL
import CTLS
import Glibc

/// TLS for connections appserver makes (a DNS-over-TLS upstream): TLS 1.2 at least, the
/// peer's certificate verified against the system's CA store or a given CA file, ALPN
/// offered. Immutable once built, so connections on every worker make their SSL objects
/// from it at once (SSL_new on a built SSL_CTX is thread-safe), hence `@unchecked Sendable`.
public final class TLSClientContext: @unchecked Sendable {
    private let context: OpaquePointer

    /// `caFile` (PEM) holds the certificates trusted; nil: the system's store.
    public init(caFile: String?, alpn: [String]) throws(TLSError) {
        if let caFile, LocalFiles.read(caFile, limit: 16 * 1024 * 1024) == nil {
            throw TLSError("\(caFile): \(errorText(errno))")
        }
        let wire = alpn.flatMap { [UInt8(truncatingIfNeeded: $0.utf8.count)] + Array($0.utf8) }
        let made = wire.withUnsafeBufferPointer { ctls_client_context(caFile, $0.baseAddress, UInt32($0.count)) }
        guard let made else {
            throw TLSError("\(caFile ?? "the system's CA store"): \(TLSError.openSSLReason()) (expected PEM certificates)")
        }
        context = made
    }

    deinit { SSL_CTX_free(context) }

    func makeSSL(fd: Int32, name: String, slot: OpaquePointer?) -> OpaquePointer? {
        ctls_client_ssl(context, fd, name, slot)
    }
}

/// One peer an outbound connection must prove itself to be: its certificate must carry
/// `name` (a host name, sent as SNI too, or an IP address). The peer's newest TLS session
/// is kept here, so that the next connection to it resumes rather than starting afresh.
public final class TLSClientTarget: @unchecked Sendable {
    public let context: TLSClientContext
    public let name: String
    /// Locked in C: connections on any worker store and take sessions.
    private let slot: OpaquePointer?

    public init(context: TLSClientContext, name: String) {
        self.context = context
        self.name = name
        slot = ctls_session_slot_new()
    }

    deinit { ctls_session_slot_free(slot) }

    func makeSSL(fd: Int32) -> OpaquePointer? { context.makeSSL(fd: fd, name: name, slot: slot) }
}
