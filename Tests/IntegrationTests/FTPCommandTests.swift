import Foundation
import FTPService
import Glibc
import Testing

/// The FTP service as a new user runs it: add a user with `appserver passwd`, then lftp.
@Suite(.enabled(if: ServerProcess.binary != nil && Tools.find("lftp") != nil, "needs the appserver binary and lftp"))
struct FTPCommandTests {
    @Test func passwdThenLftpMirrorsUpAndDown() throws {
        let folder = try TemporaryFolder("appserver-ftpcmd")
        let binary = try #require(ServerProcess.binary)
        try folder.write("users", "# users\n")
        let added = try Tools.run(binary, ["passwd", "carol", "--ftp-users", folder.path + "/users"], stdin: Array("tr0ub4dor\n".utf8))
        #expect(added.status == 0, "\(added.stderr)")
        let users = String(decoding: folder.read("users") ?? [], as: UTF8.self)
        #expect(users.hasPrefix("# users\ncarol:$"))
        #expect(!users.contains("tr0ub4dor"))
        let again = try Tools.run(binary, ["passwd", "carol", "--ftp-users", folder.path + "/users"], stdin: Array("newer\n".utf8))
        #expect(again.status == 0)
        #expect(String(decoding: folder.read("users") ?? [], as: UTF8.self).components(separatedBy: "carol:").count == 2)

        try folder.write("local/notes.txt", "ftp notes\n")
        try folder.write("local/sub/data.bin", patternBytes(500_000))
        let server = try ServerProcess(["--services", "ftp", "--ftp-port", "0", "--listen", "127.0.0.1", "--data", folder.path + "/data",
                                        "--ftp-root", folder.path + "/root", "--ftp-users", folder.path + "/users"])
        let port = try #require(server.listeningPort())
        let lftp = { (commands: String) in
            try Tools.run("lftp", ["-u", "carol,newer", "-p", "\(port)", "-e", "set ftp:ssl-allow no; \(commands); quit", "127.0.0.1"], timeout: 60)
        }
        #expect(try lftp("mirror -R \(folder.path)/local backup").status == 0)
        #expect(try lftp("mirror backup \(folder.path)/restored").status == 0)
        #expect(folder.read("restored/notes.txt") == folder.read("local/notes.txt"))
        #expect(folder.read("restored/sub/data.bin") == patternBytes(500_000))
        #expect(server.logged("login carol ok"))
        let refused = try Tools.run("lftp", ["-u", "carol,tr0ub4dor", "-p", "\(port)", "-e", "set ftp:ssl-allow no; set net:max-retries 1; ls; quit", "127.0.0.1"], timeout: 60)
        #expect(refused.status != 0)
        // A user added while the server runs can log in after SIGHUP.
        _ = try Tools.run(binary, ["passwd", "dave", "--ftp-users", folder.path + "/users"], stdin: Array("d4ve\n".utf8))
        server.signal(SIGHUP)
        #expect(server.logged("reloaded ftp users"))
        let dave = try Tools.run("lftp", ["-u", "dave,d4ve", "-p", "\(port)", "-e", "set ftp:ssl-allow no; cls -1 backup; quit", "127.0.0.1"], timeout: 60)
        #expect(dave.text.contains("backup/notes.txt"), "\(dave.stderr)")
        server.signal(SIGTERM)
        #expect(server.exitStatus() == 0)
    }

    @Test func missingUsersFileIsAStartupError() throws {
        let folder = try TemporaryFolder()
        let server = try ServerProcess(["--services", "ftp", "--ftp-port", "0", "--listen", "127.0.0.1", "--data", folder.path + "/data",
                                        "--ftp-root", folder.path, "--ftp-users", "/nonexistent/users"])
        #expect(server.exitStatus() == 1)
        #expect(server.stderr == "appserver: cannot read the FTP users file /nonexistent/users\n")
    }
}

/// The command with a raw control connection, so that it runs wherever the binary does.
@Suite(.enabled(if: ServerProcess.binary != nil, "needs the built appserver binary"))
struct FTPReloadTests {
    /// SIGHUP with a broken users file keeps the users it had: the old password still logs
    /// in. And what a killed upload left under the root is gone at start.
    @Test func aFailedReloadKeepsTheOldUsersAndLeftoverUploadsGoAtStart() throws {
        let folder = try TemporaryFolder("appserver-ftpreload")
        let hash = try #require(PasswordFile.hash("old-secret"))
        try folder.write("users", "alice:\(hash)\n")
        try folder.write("root/docs/.appserver-upload-3k2j", patternBytes(1000))
        try folder.write("root/docs/keep.txt", "kept\n")
        let server = try ServerProcess(["--services", "ftp", "--ftp-port", "0", "--listen", "127.0.0.1", "--data", folder.path + "/data",
                                        "--ftp-root", folder.path + "/root", "--ftp-users", folder.path + "/users"])
        let port = try #require(server.listeningPort())
        #expect(server.stdout.contains("ftp: removed /docs/.appserver-upload-3k2j, left by an interrupted upload"))
        #expect(folder.read("root/docs/.appserver-upload-3k2j") == nil)
        #expect(folder.read("root/docs/keep.txt") == Array("kept\n".utf8))

        try folder.write("users", "alice:\(hash)\nthis line has no colon\n")
        server.signal(SIGHUP)
        #expect(server.logged("reloaded ftp users (1 with errors)"), "\(server.stdout)")
        #expect(server.stdout.contains("users:2: expected 'name:hash' (keeping the previous users)"))
        let control = try FTPControl(port: port)
        #expect(control.send("USER alice").hasPrefix("331"))
        #expect(control.send("PASS old-secret").hasPrefix("230"))
        #expect(control.send("QUIT").hasPrefix("221"))
        server.signal(SIGTERM)
        #expect(server.exitStatus() == 0)
    }

    /// `--ftp-passive-address` (or `ftp-passive-address` in the config file) is what PASV
    /// announces; an address PASV cannot carry is a startup error.
    @Test func passiveAddressFromTheFlagAndTheConfigFile() throws {
        let folder = try TemporaryFolder("appserver-ftppasv")
        try folder.write("users", "# none\n")
        try folder.write("appserver.conf", "ftp-passive-address = 127.0.0.3\n")
        let common = ["--services", "ftp", "--ftp-port", "0", "--listen", "127.0.0.1", "--ftp-anonymous", "--data", folder.path + "/data",
                      "--ftp-root", folder.path + "/root", "--ftp-users", folder.path + "/users"]
        for (arguments, announced) in [(["--ftp-passive-address", "127.0.0.2"], [127, 0, 0, 2]),
                                       (["--config", folder.path + "/appserver.conf"], [127, 0, 0, 3])] {
            let server = try ServerProcess(common + arguments)
            let port = try #require(server.listeningPort(), "\(server.stderr)")
            let control = try FTPControl(port: port)
            control.send("USER anonymous")
            control.send("PASS guest@example.test")
            let reply = control.send("PASV")
            #expect(FTPLogTests.pasv(reply)?.address == announced, "\(arguments): \(reply)")
            server.signal(SIGTERM)
            _ = server.exitStatus()
        }
        let v6 = try ServerProcess(common + ["--ftp-passive-address", "::1"])
        #expect(v6.exitStatus() == 1)
        #expect(v6.stderr.contains("--ftp-passive-address: expected an IPv4 address, got '::1'"), "\(v6.stderr)")
    }
}
