import Glibc
import ServerCore
import Testing

/// Certificates and contexts: what loads, what is refused with `file: why`, and a reload
/// that keeps the loaded pair when the files no longer load.
@Suite struct TLSContextTests {
    @Test func aGeneratedPairLoadsAndHasAFingerprint() throws {
        let certificate = try TLSFixtures.certificate()
        #expect(certificate.fingerprint.count == 32 * 3 - 1)
        #expect(certificate.fingerprint.split(separator: ":").allSatisfy { $0.count == 2 })
        _ = try TLSServerContext(certificates: [certificate], ticketKeys: TLSFixtures.keys, configuration: .init(alpn: ["http/1.1"]))
    }

    @Test func brokenFilesSayWhichAndWhy() throws {
        let folder = TLSFixtures.folder()
        defer { TLSFixtures.remove(folder) }
        let (cert, key) = try TLSSelfSigned.make(names: ["localhost"], addresses: [])
        let (_, otherKey) = try TLSSelfSigned.make(names: ["localhost"], addresses: [])
        #expect(LocalFiles.write(cert, to: folder + "/cert.pem") && LocalFiles.write(key, to: folder + "/key.pem"))
        #expect(LocalFiles.write(otherKey, to: folder + "/other.pem") && LocalFiles.write(Array("junk\n".utf8), to: folder + "/junk.pem"))
        func error(_ certificate: String, _ key: String) -> String {
            do {
                _ = try TLSCertificate(certificateFile: folder + "/" + certificate, keyFile: folder + "/" + key)
                return "loaded"
            } catch {
                return error.description
            }
        }
        #expect(error("cert.pem", "key.pem") == "loaded")
        #expect(error("missing.pem", "key.pem") == "\(folder)/missing.pem: No such file or directory")
        #expect(error("junk.pem", "key.pem") == "\(folder)/junk.pem: no certificate in it (expected PEM, BEGIN CERTIFICATE)")
        #expect(error("cert.pem", "junk.pem") == "\(folder)/junk.pem: no private key in it (expected PEM, BEGIN PRIVATE KEY)")
        #expect(error("cert.pem", "other.pem") == "\(folder)/other.pem: the key does not match the certificate in \(folder)/cert.pem")
    }

    @Test func selfSignedFilesAreMadeOnceWithAPrivateKey() throws {
        let folder = TLSFixtures.folder()
        defer { TLSFixtures.remove(folder + "/tls"); TLSFixtures.remove(folder) }
        let first = try TLSSelfSigned.ensure(folder: folder + "/tls", names: ["localhost"], addresses: [IPAddress("127.0.0.1")!])
        #expect(first.made)
        var info = stat()
        #expect(stat(first.files.key, &info) == 0 && info.st_mode & 0o777 == 0o600)
        let fingerprint = try TLSCertificate(certificateFile: first.files.certificate, keyFile: first.files.key).fingerprint
        let second = try TLSSelfSigned.ensure(folder: folder + "/tls", names: ["localhost"], addresses: [])
        #expect(!second.made)
        #expect(try TLSCertificate(certificateFile: second.files.certificate, keyFile: second.files.key).fingerprint == fingerprint)
    }

    @Test func reloadTakesNewFilesAndKeepsTheOldOnFailure() throws {
        let folder = TLSFixtures.folder()
        defer { TLSFixtures.remove(folder) }
        let files = TLSCertificateFiles(certificate: folder + "/cert.pem", key: folder + "/key.pem")
        func place(_ name: String) throws {
            let (cert, key) = try TLSSelfSigned.make(names: [name], addresses: [])
            #expect(LocalFiles.write(cert, to: files.certificate) && LocalFiles.write(key, to: files.key))
        }
        try place("one.test")
        let holder = try TLSContextHolder(files: [files], ticketKeys: TLSFixtures.keys, configuration: .init(alpn: []))
        let first = holder.current
        try place("two.test")
        #expect(holder.reload() == [])
        #expect(holder.current !== first)
        let second = holder.current.certificates[0].fingerprint
        #expect(second != first.certificates[0].fingerprint)
        unlink(files.key)
        let problems = holder.reload()
        #expect(problems == ["\(files.key): No such file or directory (keeping the certificate loaded before)"])
        #expect(holder.current.certificates[0].fingerprint == second)
    }
}
