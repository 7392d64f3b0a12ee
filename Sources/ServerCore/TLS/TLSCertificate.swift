import COpenSSL
import CTLS
import Glibc

/// A certificate (PEM, its chain after it in the same file) and its private key (PEM), as
/// read from their files and checked to belong together. Kept as text: every context built
/// from it (a service's, a reload's) parses its own copy.
public struct TLSCertificate: Sendable {
    public let certificateFile: String
    public let keyFile: String
    let certificatePEM: [UInt8]
    let keyPEM: [UInt8]

    /// Reads and checks both files; the key file may be one only root can read, so this
    /// runs before privileges are dropped.
    public init(certificateFile: String, keyFile: String) throws(TLSError) {
        guard let certificate = LocalFiles.read(certificateFile, limit: 1024 * 1024) else {
            throw TLSError("\(certificateFile): \(errorText(errno))")
        }
        guard let key = LocalFiles.read(keyFile, limit: 1024 * 1024) else {
            throw TLSError("\(keyFile): \(errorText(errno))")
        }
        try self.init(certificatePEM: certificate, keyPEM: key, certificateFile: certificateFile, keyFile: keyFile)
    }

    /// From PEM text already read; the names are for messages.
    public init(certificatePEM: [UInt8], keyPEM: [UInt8], certificateFile: String = "certificate", keyFile: String = "key") throws(TLSError) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.certificatePEM = certificatePEM
        self.keyPEM = keyPEM
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw TLSError("\(certificateFile): \(TLSError.openSSLReason())") }
        defer { SSL_CTX_free(context) }
        try use(in: context)
    }

    /// Puts the certificate, chain and key into `context`.
    func use(in context: OpaquePointer) throws(TLSError) {
        let result = certificatePEM.withUnsafeBufferPointer { cert in
            keyPEM.withUnsafeBufferPointer { key in
                cert.withMemoryRebound(to: CChar.self) { cert in
                    key.withMemoryRebound(to: CChar.self) { key in
                        ctls_use_pem(context, cert.baseAddress, cert.count, key.baseAddress, key.count)
                    }
                }
            }
        }
        switch result {
        case 0: return
        case 1: throw TLSError("\(certificateFile): no certificate in it (expected PEM, BEGIN CERTIFICATE)")
        case 2: throw TLSError("\(certificateFile): a chain certificate after the first does not parse")
        case 3: throw TLSError("\(keyFile): no private key in it (expected PEM, BEGIN PRIVATE KEY)")
        default: throw TLSError("\(keyFile): the key does not match the certificate in \(certificateFile)")
        }
    }

    /// The SHA-256 fingerprint of the certificate, as `openssl x509 -fingerprint -sha256` shows it.
    public var fingerprint: String {
        let bio = certificatePEM.withUnsafeBytes { BIO_new_mem_buf($0.baseAddress, Int32($0.count)) }
        defer { BIO_free(bio) }
        guard let certificate = PEM_read_bio_X509(bio, nil, nil, nil) else { return "?" }
        defer { X509_free(certificate) }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(certificate, EVP_sha256(), &digest, &length) == 1 else { return "?" }
        let hex = Array("0123456789ABCDEF".utf8)
        return digest.prefix(Int(length)).map { String(decoding: [hex[Int($0 >> 4)], hex[Int($0 & 15)]], as: UTF8.self) }
            .joined(separator: ":")
    }
}
