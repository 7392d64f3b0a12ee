import COpenSSL
import CTLS
import Glibc

/// The certificate appserver makes for itself when none is given: an EC P-256 key and a
/// self-signed certificate for `localhost`, the host name and the listen addresses, so
/// that HTTPS works at first start (`curl --cacert data/tls/cert.pem`).
public enum TLSSelfSigned {
    /// `folder/cert.pem` and `folder/key.pem` (0600): made when missing, else reused as
    /// they are. `made` says which.
    public static func ensure(folder: String, names: [String], addresses: [IPAddress]) throws(TLSError)
        -> (files: TLSCertificateFiles, made: Bool) {
        let files = TLSCertificateFiles(certificate: folder + "/cert.pem", key: folder + "/key.pem")
        // stat, not access(2): access ignores the capability a supervised child reads with.
        // Anything but "not there" counts as there: loading it then says what is wrong.
        func there(_ path: String) -> Bool {
            var info = stat()
            return stat(path, &info) == 0 || errno != ENOENT
        }
        if there(files.certificate) || there(files.key) { return (files, false) }
        // The folders above it as usual; this one the owner's only.
        if let error = LocalFiles.createDirectories(folder.lastIndex(of: "/").map { String(folder[..<$0]) } ?? ".") ?? (mkdir(folder, 0o700) == 0 || errno == EEXIST ? nil : errno) {
            throw TLSError("\(folder): \(errorText(error))")
        }
        let (certificate, key) = try make(names: names, addresses: addresses)
        guard LocalFiles.write(key, to: files.key, mode: 0o600) else { throw TLSError("\(files.key): \(errorText(errno))") }
        guard LocalFiles.write(certificate, to: files.certificate, mode: 0o644) else {
            throw TLSError("\(files.certificate): \(errorText(errno))")
        }
        return (files, true)
    }

    /// A new key and a certificate for it, both PEM, valid for ten years from an hour ago.
    public static func make(names: [String], addresses: [IPAddress]) throws(TLSError) -> (certificate: [UInt8], key: [UInt8]) {
        guard let key = ctls_generate_key(), let certificate = X509_new() else { throw failure() }
        defer {
            EVP_PKEY_free(key)
            X509_free(certificate)
        }
        var serial = [UInt8](repeating: 0, count: 16)
        guard RAND_bytes(&serial, 16) == 1 else { throw failure() }
        serial[0] &= 0x7F
        let number = BN_bin2bn(serial, 16, nil)
        defer { BN_free(number) }
        let subject = X509_NAME_new()
        defer { X509_NAME_free(subject) }
        guard X509_set_version(certificate, 2) == 1,
              BN_to_ASN1_INTEGER(number, X509_get_serialNumber(certificate)) != nil,
              X509_gmtime_adj(X509_getm_notBefore(certificate), -3600) != nil,
              X509_gmtime_adj(X509_getm_notAfter(certificate), 3650 * 86400) != nil,
              X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, names.first ?? "localhost", -1, -1, 0) == 1,
              X509_set_subject_name(certificate, subject) == 1, X509_set_issuer_name(certificate, subject) == 1,
              X509_set_pubkey(certificate, key) == 1 else { throw failure() }
        let alternatives = names.map { "DNS:" + $0 } + addresses.map { "IP:" + $0.description }
        for (nid, value) in [(NID_subject_alt_name, alternatives.joined(separator: ",")), (NID_basic_constraints, "critical,CA:FALSE"),
                             (NID_ext_key_usage, "serverAuth"), (NID_key_usage, "critical,digitalSignature")] {
            var context = X509V3_CTX()
            X509V3_set_ctx(&context, certificate, certificate, nil, nil, 0)
            guard let extensionValue = X509V3_EXT_conf_nid(nil, &context, nid, value) else { throw failure() }
            defer { X509_EXTENSION_free(extensionValue) }
            guard X509_add_ext(certificate, extensionValue, -1) == 1 else { throw failure() }
        }
        guard X509_sign(certificate, key, EVP_sha256()) > 0 else { throw failure() }
        return (try pem { PEM_write_bio_X509($0, certificate) }, try pem { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) })
    }

    private static func pem(_ write: (OpaquePointer?) -> Int32) throws(TLSError) -> [UInt8] {
        let bio = BIO_new(BIO_s_mem())
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw failure() }
        var bytes = [UInt8](repeating: 0, count: Int(BIO_ctrl_pending(bio)))
        let n = bytes.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32($0.count)) }
        guard n == bytes.count else { throw failure() }
        return bytes
    }

    private static func failure() -> TLSError { TLSError("making a self-signed certificate: \(TLSError.openSSLReason())") }
}
