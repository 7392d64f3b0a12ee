import COpenSSL
import CTLS
import Glibc

/// One connection's OpenSSL session on its non-blocking socket, as nginx drives it: every
/// call clears the thread's error queue first and reports what it needs next, a readable
/// or a writable socket (SSL_read may want a write, SSL_write a read). Confined to its
/// connection's queue.
final class TLSStream {
    enum Progress {
        case done(Int)
        case wantRead
        case wantWrite
        /// The peer's close_notify (or its end of stream).
        case closed
        case failed
    }

    private let ssl: OpaquePointer
    /// Holds the SSL_CTX this session was made from (a TLSServerContext or TLSClientTarget).
    private let context: AnyObject
    private let kernelTLS: Bool
    /// A server session whose scope requires resumption (an FTPS data connection).
    private let requiresResumption: Bool
    private(set) var established = false
    /// Whether records go through kernel TLS, so that files can go by SSL_sendfile.
    private(set) var kernelSend = false

    init?(context: TLSServerContext, fd: Int32) {
        guard let ssl = context.makeSSL(fd: fd) else { return nil }
        self.ssl = ssl
        self.context = context
        kernelTLS = context.configuration.kernelTLS
        requiresResumption = context.requiresResumption
    }

    /// The client side of a connection appserver made, verifying the peer as `target` says.
    init?(client target: TLSClientTarget, fd: Int32) {
        guard let ssl = target.makeSSL(fd: fd) else { return nil }
        self.ssl = ssl
        context = target
        kernelTLS = false
        requiresResumption = false
    }

    deinit { SSL_free(ssl) }

    func handshake() -> Progress {
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        guard result == 1 else { return progress(result) }
        // A scope that requires resumption: a full handshake proves nothing about the peer.
        if requiresResumption && SSL_session_reused(ssl) != 1 { return .failed }
        established = true
        kernelSend = kernelTLS && ctls_kernel_send(ssl) == 1
        return .done(0)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> Progress {
        ERR_clear_error()
        let n = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        return n > 0 ? .done(Int(n)) : progress(n)
    }

    /// With partial writes on, a record at a time; after wantRead/wantWrite the caller
    /// retries with the same bytes (moving the buffer is allowed).
    func write(_ bytes: UnsafeRawPointer, count: Int) -> Progress {
        ERR_clear_error()
        let n = SSL_write(ssl, bytes, Int32(clamping: count))
        return n > 0 ? .done(Int(n)) : progress(n)
    }

    func sendfile(_ fd: Int32, offset: Int64, count: Int) -> Progress {
        ERR_clear_error()
        let n = SSL_sendfile(ssl, fd, off_t(offset), count, 0)
        if n > 0 { return .done(n) }
        return n == 0 ? .failed : progress(Int32(truncatingIfNeeded: n))
    }

    /// Input OpenSSL holds that the socket will not signal again: decrypted bytes, or records
    /// read ahead and not yet taken (which SSL_pending does not count); perhaps only part of
    /// a record, whose rest the socket will signal.
    var pending: Bool { SSL_has_pending(ssl) == 1 }

    /// Sends close_notify, without waiting for the peer's (the socket closes next).
    func shutdown() {
        guard established else { return }
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    var info: TLSInfo {
        let version = String(cString: SSL_get_version(ssl))
        let cipher = SSL_get_current_cipher(ssl).map { String(cString: SSL_CIPHER_get_name($0)) } ?? "none"
        let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name).map { String(cString: $0) }
        var protocolName: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &protocolName, &length)
        let alpn = protocolName.map { String(decoding: UnsafeBufferPointer(start: $0, count: Int(length)), as: UTF8.self) }
        return TLSInfo(version: version, cipher: cipher, resumed: SSL_session_reused(ssl) == 1, serverName: name, alpn: alpn)
    }

    private func progress(_ result: Int32) -> Progress {
        let error = SSL_get_error(ssl, result)
        ERR_clear_error()
        switch error {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL where result == 0: return .closed
        default: return .failed
        }
    }
}
