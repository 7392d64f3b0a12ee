import Foundation
import Testing

/// The FTP service against lftp, curl and Python's ftplib.
@Suite struct FTPClientTests {
    static let hasLftp = Tools.find("lftp") != nil
    static let hasPython = Tools.find("python3") != nil

    func lftp(_ server: TestFTPServer, _ commands: String, user: String = "alice,secret") throws -> Tools.Result {
        try Tools.run("lftp", ["-u", user, "-p", "\(server.port)", "-e",
                               "set ftp:ssl-allow no; set net:max-retries 1; set net:timeout 10; \(commands); quit", "127.0.0.1"], timeout: 120)
    }

    @Test(.enabled(if: hasLftp, "lftp is not installed: skipping the lftp tests"))
    func lftpPutsAndGetsTwentyMebibytesIntact() throws {
        let server = try TestFTPServer()
        let bytes = patternBytes(20 * 1024 * 1024, seed: 21)
        try server.base.write("local/big.bin", bytes)
        let result = try lftp(server, "put \(server.base.path)/local/big.bin -o big.bin; get big.bin -o \(server.base.path)/local/back.bin")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(server.read("big.bin") == bytes)
        #expect(server.base.read("local/back.bin") == bytes)
    }

    @Test(.enabled(if: hasLftp, "lftp is not installed"))
    func lftpMirrorsAFolderUpAndDown() throws {
        let server = try TestFTPServer()
        let files = ["a.txt": patternBytes(1000, seed: 1), "dir with space/b.bin": patternBytes(300_000, seed: 2),
                     "dir with space/deeper/ünïcode.txt": Array("é\n".utf8), "empty.txt": []]
        for (name, content) in files { try server.base.write("up/\(name)", content) }
        let up = try lftp(server, "mirror -R \(server.base.path)/up site")
        #expect(up.status == 0, "\(up.stderr)")
        let down = try lftp(server, "mirror site \(server.base.path)/down")
        #expect(down.status == 0, "\(down.stderr)")
        for (name, content) in files {
            #expect(server.read("site/\(name)") == content, "\(name) up")
            #expect(server.base.read("down/\(name)") == content, "\(name) down")
        }
        let ops = try lftp(server, "mkdir made; mv site/a.txt made/renamed.txt; rm site/empty.txt; rm -r site/dir\\ with\\ space; cls -1 made")
        #expect(ops.text == "made/renamed.txt\n", "\(ops.stderr)")
        #expect(server.read("made/renamed.txt") == files["a.txt"])
        #expect(server.read("site/empty.txt") == nil)
        #expect((try? FileManager.default.contentsOfDirectory(atPath: server.root + "/site")) == [])
    }

    @Test(.enabled(if: Tools.hasCurl, "curl is not installed"))
    func curlPassiveAndActive() throws {
        let server = try TestFTPServer()
        let bytes = patternBytes(2 * 1024 * 1024, seed: 7)
        try server.write("file.bin", bytes)
        try server.base.write("upload.bin", bytes)
        for mode in [[], ["--ftp-pasv"], ["-P", "127.0.0.1"]] {
            let out = server.base.path + "/got.bin"
            let get = try Tools.curl(mode + ["-u", "alice:secret", "-o", out, server.url + "/file.bin"])
            #expect(get.status == 0, "\(mode) \(get.stderr)")
            #expect(server.base.read("got.bin") == bytes, "\(mode)")
            let put = try Tools.curl(mode + ["-u", "alice:secret", "-T", server.base.path + "/upload.bin", server.url + "/put\(mode.count).bin"])
            #expect(put.status == 0, "\(mode) \(put.stderr)")
            #expect(server.read("put\(mode.count).bin") == bytes, "\(mode)")
        }
        let list = try Tools.curl(["-u", "alice:secret", server.url + "/"])
        #expect(list.text.contains("file.bin"))
        let wrong = try Tools.curl(["-u", "alice:nope", server.url + "/file.bin"])
        #expect(wrong.status == 67)
    }

    @Test(.enabled(if: Tools.hasCurl, "curl is not installed"))
    func twentyParallelDownloadsAllIntact() throws {
        let server = try TestFTPServer()
        let bytes = patternBytes(16 * 1024 * 1024, seed: 20)
        try server.write("large.bin", bytes)
        let base = server.base.path, url = server.url
        let failures = LockedData()
        DispatchQueue.concurrentPerform(iterations: 20) { index in
            let result = try? Tools.curl(["-u", "alice:secret", "-o", "\(base)/parallel-\(index).bin", url + "/large.bin"])
            if result?.status != 0 { failures.set(Data("download \(index): \(result?.stderr ?? "did not run")".utf8)) }
        }
        #expect(failures.get().isEmpty, "\(String(decoding: failures.get(), as: UTF8.self))")
        for index in 0..<20 { #expect(server.base.read("parallel-\(index).bin") == bytes, "download \(index)") }
    }

    @Test(.enabled(if: hasPython, "python3 is not installed"))
    func pythonFtplib() throws {
        let server = try TestFTPServer()
        try server.write("docs/readme.txt", Array("line one\nline two\n".utf8))
        let script = """
        import ftplib, io, sys
        port = int(sys.argv[1])
        f = ftplib.FTP()
        f.connect("127.0.0.1", port, timeout=10)
        try:
            f.login("alice", "wrong")
            sys.exit("wrong password accepted")
        except ftplib.error_perm as e:
            assert str(e).startswith("530"), e
        f.login("alice", "secret")
        facts = dict(f.mlsd("docs"))
        assert facts["readme.txt"]["type"] == "file" and facts["readme.txt"]["size"] == "18", facts
        assert f.size("docs/readme.txt") == 18
        assert len(f.sendcmd("MDTM docs/readme.txt").split()[1]) == 14
        f.storbinary("STOR data.bin", io.BytesIO(b"0123456789"))
        f.storbinary("APPE data.bin", io.BytesIO(b"abc"))
        got = io.BytesIO(); f.retrbinary("RETR data.bin", got.write, rest=4)
        assert got.getvalue() == b"456789abc", got.getvalue()
        f.voidcmd("TYPE I"); f.sendcmd("REST 10")
        f.storbinary("STOR data.bin", io.BytesIO(b"XYZ"), rest=10)
        got = io.BytesIO(); f.retrbinary("RETR data.bin", got.write)
        assert got.getvalue() == b"0123456789XYZ", got.getvalue()
        lines = []; f.retrlines("RETR docs/readme.txt", lines.append)
        assert lines == ["line one", "line two"], lines
        for bounce in ["PORT 10,0,0,1,4,0", "PORT 127,0,0,1,0,25", "EPRT |1|198.51.100.1|2000|"]:
            try:
                f.sendcmd(bounce); sys.exit("bounce allowed: " + bounce)
            except ftplib.error_perm as e:
                assert str(e).startswith("500"), e
        f.cwd("../../..")
        assert f.pwd() == "/"
        for escape in ["../etc/passwd", "/../../etc/passwd"]:
            try:
                f.retrbinary("RETR " + escape, lambda b: None); sys.exit("escaped")
            except ftplib.error_perm as e:
                assert str(e).startswith("550"), e
        f.mkd("made"); f.rename("data.bin", "made/data.bin"); f.delete("made/data.bin"); f.rmd("made")
        f.storlines("STOR text.txt", io.BytesIO(b"one\\ntwo\\n"))
        got = io.BytesIO(); f.retrbinary("RETR text.txt", got.write)
        assert got.getvalue() == b"one\\ntwo\\n", got.getvalue()
        f.set_pasv(False)
        got = io.BytesIO(); f.retrbinary("RETR docs/readme.txt", got.write)
        assert got.getvalue() == b"line one\\nline two\\n"
        f.quit()
        print("ok")
        """
        try server.base.write("check.py", script)
        let result = try Tools.run("python3", [server.base.path + "/check.py", "\(server.port)"])
        #expect(result.text == "ok\n", "\(result.stderr)")
    }

    @Test(.enabled(if: hasPython, "python3 is not installed"))
    func anonymousIsReadOnly() throws {
        let server = try TestFTPServer(anonymous: true)
        try server.write("pub/file.txt", Array("public\n".utf8))
        let script = """
        import ftplib, io, sys
        f = ftplib.FTP(); f.connect("127.0.0.1", int(sys.argv[1]), timeout=10); f.login()
        got = io.BytesIO(); f.retrbinary("RETR pub/file.txt", got.write); assert got.getvalue() == b"public\\n"
        for cmd in ["STOR x", "APPE x", "DELE pub/file.txt", "MKD d", "RMD pub", "RNFR pub/file.txt", "SITE CHMOD 777 x"]:
            try:
                if cmd.startswith(("STOR", "APPE")):
                    f.storbinary(cmd, io.BytesIO(b"x"))
                else:
                    f.sendcmd(cmd)
                sys.exit("allowed: " + cmd)
            except ftplib.error_perm as e:
                assert str(e).startswith("550"), (cmd, e)
        print("ok")
        """
        try server.base.write("anon.py", script)
        let result = try Tools.run("python3", [server.base.path + "/anon.py", "\(server.port)"])
        #expect(result.text == "ok\n", "\(result.stderr)")
        #expect(server.read("x") == nil)
    }
}
