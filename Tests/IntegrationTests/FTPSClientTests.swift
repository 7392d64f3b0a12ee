import Foundation
import Testing

/// FTP over TLS (RFC 4217) against lftp, curl and Python's ftplib, as their users run them.
@Suite struct FTPSClientTests {
    static let hasLftp = Tools.find("lftp") != nil
    static let hasPython = Tools.find("python3") != nil

    /// lftp with TLS forced on the control and data connections, verifying the certificate.
    func lftp(_ server: TestFTPServer, _ commands: String) throws -> Tools.Result {
        try Tools.run("lftp", ["-u", "alice,secret", "-p", "\(server.port)", "-e",
                               "set ftp:ssl-force true; set ftp:ssl-protect-data true; set ssl:ca-file \(server.cacert); "
                                   + "set xfer:clobber on; set net:max-retries 1; set net:timeout 10; \(commands); quit", "localhost"],
                      timeout: 120)
    }

    @Test(.enabled(if: hasLftp, "lftp is not installed: skipping the lftp tests"))
    func lftpWithTLSForcedResumesTheControlSessionPassiveAndActive() throws {
        let server = try TestFTPServer(tls: .required)
        let bytes = patternBytes(3 * 1024 * 1024, seed: 14)
        try server.write("big.bin", bytes)
        try server.base.write("local/up.bin", bytes)
        let local = server.base.path + "/local"
        let result = try lftp(server, "get big.bin -o \(local)/passive.bin; put \(local)/up.bin -o up-passive.bin; "
            + "set ftp:passive-mode false; get big.bin -o \(local)/active.bin; put \(local)/up.bin -o up-active.bin; cls -1")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(server.base.read("local/passive.bin") == bytes)
        #expect(server.base.read("local/active.bin") == bytes)
        #expect(server.read("up-passive.bin") == bytes)
        #expect(server.read("up-active.bin") == bytes)
        #expect(result.text.contains("big.bin"))
        // Every transfer went over a protected data connection that resumed the control's session.
        #expect(server.log.all.filter { $0.contains("\" 226 ") }.count == 5, "\(server.log.all)")
    }

    @Test(.enabled(if: Tools.hasCurl, "curl is not installed"))
    func curlSSLReqdAndImplicitFTPS() throws {
        let server = try TestFTPServer(tls: .optional)
        let bytes = patternBytes(2 * 1024 * 1024, seed: 15)
        try server.write("file.bin", bytes)
        try server.base.write("upload.bin", bytes)
        let trust = ["--cacert", server.cacert, "-u", "alice:secret"]
        let get = try Tools.curl(trust + ["--ssl-reqd", "-o", server.base.path + "/got.bin", "ftp://localhost:\(server.port)/file.bin"])
        #expect(get.status == 0, "\(get.stderr)")
        #expect(server.base.read("got.bin") == bytes)
        let put = try Tools.curl(trust + ["--ssl-reqd", "-T", server.base.path + "/upload.bin", "ftp://localhost:\(server.port)/put.bin"])
        #expect(put.status == 0, "\(put.stderr)")
        #expect(server.read("put.bin") == bytes)
        // Implicit FTPS: TLS from the first byte; curl asks for PROT P there too.
        let list = try Tools.curl(trust + ["ftps://localhost:\(server.ftpsPort)/"])
        #expect(list.status == 0 && list.text.contains("file.bin"), "\(list.stderr)")
        let implicitPut = try Tools.curl(trust + ["-T", server.base.path + "/upload.bin", "ftps://localhost:\(server.ftpsPort)/implicit.bin"])
        #expect(implicitPut.status == 0, "\(implicitPut.stderr)")
        #expect(server.read("implicit.bin") == bytes)
        // Without the CA the certificate is not trusted: the control connection's TLS is real.
        let untrusted = try Tools.curl(["-u", "alice:secret", "--ssl-reqd", "ftp://localhost:\(server.port)/file.bin"])
        #expect(untrusted.status == 60, "\(untrusted.stderr)")
    }

    /// ftplib wraps each data connection in a fresh TLS session: with reuse required (the
    /// default, as vsftpd's require_ssl_reuse) its transfers get 522, with `--ftp-tls-reuse
    /// no` they work.
    @Test(.enabled(if: hasPython, "python3 is not installed"), arguments: [true, false])
    func pythonFTPTLSNeedsReuseOff(reuse: Bool) throws {
        let server = try TestFTPServer(tls: .optional, tlsReuse: reuse)
        try server.write("readme.txt", Array("over tls\n".utf8))
        let script = """
        import ftplib, io, ssl, sys
        port, reuse = int(sys.argv[1]), sys.argv[2] == "yes"
        f = ftplib.FTP_TLS(context=ssl.create_default_context(cafile=sys.argv[3]))
        f.connect("localhost", port, timeout=10)
        f.login("alice", "secret")
        f.prot_p()
        try:
            got = io.BytesIO(); f.retrbinary("RETR readme.txt", got.write)
            assert not reuse, "a transfer without resumption was served"
            assert got.getvalue() == b"over tls\\n", got.getvalue()
            f.storbinary("STOR up.txt", io.BytesIO(b"uploaded\\n"))
            assert f.nlst() == ["readme.txt", "up.txt"], f.nlst()
        except ftplib.error_perm as e:
            assert reuse and str(e).startswith("522"), e
        except (ssl.SSLError, OSError) as e:
            # The data connection closed under its TLS: the 522 is still to be read.
            assert reuse, e
            try:
                f.voidresp(); sys.exit("no 522 after " + str(e))
            except ftplib.error_perm as e:
                assert str(e).startswith("522"), e
        f.prot_c()
        got = io.BytesIO(); f.retrbinary("RETR readme.txt", got.write)
        assert got.getvalue() == b"over tls\\n", got.getvalue()
        f.quit()
        print("ok")
        """
        try server.base.write("tls.py", script)
        let result = try Tools.run("python3", [server.base.path + "/tls.py", "\(server.port)", reuse ? "yes" : "no", server.cacert])
        #expect(result.text == "ok\n", "\(result.stderr)")
        #expect(server.read("up.txt") == (reuse ? nil : Array("uploaded\n".utf8)))
    }
}
