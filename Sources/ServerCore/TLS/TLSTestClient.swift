import COpenSSL
import Glibc

/// A blocking TLS client over loopback, for tests of the TLS layer (as `TestConnection`
/// is for handlers): the raw socket is there too, to send plaintext before a handshake.
/// Used from one test thread.
public final class TLSTestClient {
    public let fd: Int32
    private let context: OpaquePointer
    private let ssl: OpaquePointer

    /// Connects to 127.0.0.1:`port` (each read waits at most `timeout` seconds). Nothing
    /// is verified unless `trusting` names a CA file; `session` (from an earlier client)
    /// asks to resume it.
    public init(port: UInt16, serverName: String? = nil, alpn: [String] = [], trusting caFile: String? = nil,
                maxVersion: Int32 = 0, session: TLSTestSession? = nil, timeout: Int = 10) throws(TLSError) {
        // SSL_write to a server that closed would otherwise end the test process.
        signal(SIGPIPE, SIG_IGN)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0, let context = SSL_CTX_new(TLS_client_method()) else {
            let why = errorText(errno)
            Glibc.close(fd)
            throw TLSError("connect to port \(port): \(why)")
        }
        self.context = context
        if maxVersion != 0 {
            // The test checks the server refuses old versions: let this client offer them.
            SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, 0, nil)
            SSL_CTX_ctrl(context, SSL_CTRL_SET_MAX_PROTO_VERSION, Int(maxVersion), nil)
            _ = SSL_CTX_set_cipher_list(context, "DEFAULT:@SECLEVEL=0")
        }
        if let caFile {
            SSL_CTX_load_verify_locations(context, caFile, nil)
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        }
        ssl = SSL_new(context)
        SSL_set_fd(ssl, fd)
        if let serverName {
            serverName.withCString { _ = SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, Int(TLSEXT_NAMETYPE_host_name), UnsafeMutableRawPointer(mutating: $0)) }
        }
        if !alpn.isEmpty {
            let wire = alpn.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
            _ = SSL_set_alpn_protos(ssl, wire, UInt32(wire.count))
        }
        if let session { SSL_set_session(ssl, session.session) }
    }

    deinit {
        // close_notify: a session freed without it is marked not resumable.
        SSL_shutdown(ssl)
        SSL_free(ssl)
        SSL_CTX_free(context)
        Glibc.close(fd)
    }

    /// Runs the handshake; the error says why it failed.
    public func handshake() throws(TLSError) {
        ERR_clear_error()
        guard SSL_connect(ssl) == 1 else { throw TLSError("handshake: \(TLSError.openSSLReason())") }
    }

    /// Sends all of `bytes`; false when the connection failed.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { SSL_write(ssl, $0.baseAddress, Int32($0.count)) }
            if n <= 0 { return false }
            sent += Int(n)
        }
        return true
    }

    public func write(_ text: String) -> Bool { write(Array(text.utf8)) }

    /// Sends each of `texts` as its own record, all corked into one segment, so that the
    /// server's first read can take them all.
    public func writeRecords(_ texts: [String]) -> Bool {
        var on: Int32 = 1, off: Int32 = 0
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_CORK, &on, socklen_t(MemoryLayout<Int32>.size))
        defer { setsockopt(fd, Int32(IPPROTO_TCP), TCP_CORK, &off, socklen_t(MemoryLayout<Int32>.size)) }
        return texts.allSatisfy { write($0) }
    }

    /// Plaintext on the raw socket (before a handshake, or to inject it).
    public func sendRaw(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }

    /// Reads at least `count` bytes, or what came before a close, a failure or the timeout.
    public func read(atLeast count: Int) -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while out.count < count {
            let n = buffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if n <= 0 { break }
            out.append(contentsOf: buffer[0..<Int(n)])
        }
        return out
    }

    public func readAll() -> [UInt8] { read(atLeast: Int.max) }

    /// Ends the connection as a careful client does: close_notify, then whatever the server
    /// still sends (session tickets) read and dropped until it closes, so that nothing
    /// unread turns the close into a reset that could overtake what was sent.
    public func finish() {
        SSL_shutdown(ssl)
        Glibc.shutdown(fd, Int32(SHUT_WR))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while buffer.withUnsafeMutableBytes({ recv(fd, $0.baseAddress, $0.count, 0) }) > 0 {}
    }

    /// Whether the server closed (close_notify or end of stream) rather than the read timing out.
    public func readClosed() -> Bool {
        var byte: UInt8 = 0
        let n = SSL_read(ssl, &byte, 1)
        return n <= 0 && SSL_get_error(ssl, n) != SSL_ERROR_WANT_READ && errno != EAGAIN
    }

    public var info: TLSInfo {
        let version = String(cString: SSL_get_version(ssl))
        let cipher = SSL_get_current_cipher(ssl).map { String(cString: SSL_CIPHER_get_name($0)) } ?? "none"
        var name: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &name, &length)
        return TLSInfo(version: version, cipher: cipher, resumed: SSL_session_reused(ssl) == 1, serverName: nil,
                       alpn: name.map { String(decoding: UnsafeBufferPointer(start: $0, count: Int(length)), as: UTF8.self) })
    }

    /// The certificate's subject common name, as the server chose it.
    public var peerCommonName: String? {
        guard let certificate = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(certificate) }
        var buffer = [CChar](repeating: 0, count: 256)
        guard X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName, &buffer, 256) > 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The session to resume later (TLS 1.3 tickets arrive after the handshake: read first).
    public var session: TLSTestSession? { SSL_get1_session(ssl).map(TLSTestSession.init) }
}

public final class TLSTestSession {
    let session: OpaquePointer

    init(_ session: OpaquePointer) {
        self.session = session
    }

    deinit { SSL_SESSION_free(session) }
}
