import COpenSSL
import CTLS
import Glibc

/// A service's TLS settings built into OpenSSL: one SSL_CTX per certificate (SNI picks the
/// one whose names match, the first is the default), the service's strict ALPN list, the
/// shared ticket keys, TLS 1.2 at least. Immutable once built, so connections on every
/// worker make their SSL objects from it at once (SSL_new on a built SSL_CTX is
/// thread-safe), hence `@unchecked Sendable`; each connection holds the context it started
/// with, so a reload never changes an open connection's certificate.
public final class TLSServerContext: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// ALPN protocol names, in the server's order of preference (`http/1.1`); empty: no ALPN.
        public var alpn: [String]
        /// SSL_OP_ENABLE_KTLS, and file bodies by SSL_sendfile where the kernel took the keys.
        public var kernelTLS: Bool

        public init(alpn: [String], kernelTLS: Bool = TLSServerContext.kernelHasTLS) {
            self.alpn = alpn
            self.kernelTLS = kernelTLS
        }
    }

    /// Whether this kernel has the `tls` module loaded (CONFIG_TLS), which kTLS needs.
    public static var kernelHasTLS: Bool { access("/sys/module/tls", F_OK) == 0 }

    public let configuration: Configuration
    public let certificates: [TLSCertificate]
    /// contexts[0] is the default, on which every connection starts.
    private let contexts: [OpaquePointer]
    /// What the C callbacks read, freed with the contexts.
    private var callbackData: [UnsafeMutableRawPointer] = []

    public init(certificates: [TLSCertificate], ticketKeys: TLSTicketKeys, configuration: Configuration) throws(TLSError) {
        guard !certificates.isEmpty else { throw TLSError("no certificate to serve TLS with") }
        self.configuration = configuration
        self.certificates = certificates
        var made: [OpaquePointer] = []
        var failure: TLSError?
        var data: [UnsafeMutableRawPointer] = []
        let alpn = configuration.alpn.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
        for certificate in certificates {
            guard let context = SSL_CTX_new(TLS_server_method()) else {
                failure = TLSError("\(certificate.certificateFile): \(TLSError.openSSLReason())")
                break
            }
            made.append(context)
            guard ctls_configure(context, configuration.kernelTLS ? 1 : 0) == 1,
                  ticketKeys.bytes.withUnsafeBufferPointer({ ctls_set_ticket_keys(context, $0.baseAddress, $0.count) }) == 1 else {
                failure = TLSError("\(certificate.certificateFile): \(TLSError.openSSLReason())")
                break
            }
            do throws(TLSError) { try certificate.use(in: context) } catch {
                failure = error
                break
            }
            if !alpn.isEmpty, let list = alpn.withUnsafeBufferPointer({ ctls_set_alpn(context, $0.baseAddress, UInt32($0.count)) }) {
                data.append(list)
            }
        }
        let all: [OpaquePointer?] = made
        if failure == nil, made.count > 1, let list = all.withUnsafeBufferPointer({ ctls_set_sni(made[0], $0.baseAddress, Int32($0.count)) }) {
            data.append(list)
        }
        contexts = made
        callbackData = data
        if let failure { throw failure }
    }

    deinit {
        contexts.forEach { SSL_CTX_free($0) }
        callbackData.forEach { ctls_free($0) }
    }

    /// A server-side SSL on the connected, non-blocking `fd`, or nil when OpenSSL cannot make one.
    func makeSSL(fd: Int32) -> OpaquePointer? {
        guard let ssl = SSL_new(contexts[0]) else { return nil }
        guard SSL_set_fd(ssl, fd) == 1 else {
            SSL_free(ssl)
            return nil
        }
        SSL_set_accept_state(ssl)
        return ssl
    }

    /// The line said at start about how file bodies go over TLS.
    public var fileSendingNote: String {
        if configuration.kernelTLS {
            return "tls: kernel TLS on (SSL_OP_ENABLE_KTLS): file bodies by SSL_sendfile where the kernel takes a connection's keys"
        }
        return "tls: file bodies read in \(TLSLayer.fileChunk / 1024) KiB chunks and encrypted with SSL_write"
            + (TLSServerContext.kernelHasTLS ? "" : " (this kernel has no tls module, so no kernel TLS)")
    }
}

/// The session ticket keys, made once per process and given to every context built after,
/// so that tickets issued before a reload still resume after it.
public struct TLSTicketKeys: Sendable {
    let bytes: [UInt8]

    public init() throws(TLSError) {
        var bytes = [UInt8](repeating: 0, count: 80)
        guard RAND_bytes(&bytes, 80) == 1 else { throw TLSError("session ticket keys: \(TLSError.openSSLReason())") }
        self.bytes = bytes
    }
}
