import Foundation
import FTPService
import Glibc
import Testing

/// Binding low ports and dropping root: only meaningful when the tests run as root (as in CI).
@Suite(.enabled(if: getuid() == 0 && ServerProcess.binary != nil, "not running as root: skipping the privilege tests"))
struct PrivilegeTests {
    @Test(.enabled(if: Tools.find("setpriv") != nil, "setpriv is not installed"))
    func lowPortWithoutRootSaysWhatToDo() throws {
        let site = try TemporaryFolder()
        let binary = try #require(ServerProcess.binary)
        let result = try Tools.run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", binary, "--services", "http",
                                               "--www", site.path, "--listen", "127.0.0.1", "--http-port", "1"])
        #expect(result.status == 1)
        #expect(result.stderr == "appserver: cannot bind 127.0.0.1:1: permission denied. Ports below 1024 need root "
            + "(appserver drops privileges after binding), or pick another port with --http-port\n")
    }

    @Test func rootDropsToTheNamedUserAfterBinding() throws {
        let site = try TemporaryFolder()
        try site.write("index.html", "ok")
        let server = try ServerProcess(["--services", "http", "--www", site.path, "--listen", "127.0.0.1", "--http-port", "0", "--user", "nobody"])
        let port = try #require(server.listeningPort())
        let client = try RawClient(port: port)
        client.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(RawResponse.parseAll(client.readAll()).first?.body == Array("ok".utf8))
        // The supervisor is the user too, with CAP_DAC_READ_SEARCH (bit 2) permitted, not
        // effective, for the children; they hold nothing, in any thread.
        let supervisor = server.process.processIdentifier
        #expect(try uids(of: supervisor) == ["65534", "65534", "65534", "65534"])
        #expect(try capabilities(of: supervisor) == ["CapInh": "0000000000000004", "CapPrm": "0000000000000004",
                                                    "CapEff": "0000000000000000", "CapAmb": "0000000000000000"])
        let child = try #require(server.child("http"))
        #expect(try uids(of: child) == ["65534", "65534", "65534", "65534"])
        let threads = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(child)/task")
        #expect(!threads.isEmpty)
        for thread in threads {
            #expect(try capabilities(of: child, thread: thread) == Self.noCapabilities, "thread \(thread)")
        }
        #expect(server.logged("supervisor running as nobody, keeping CAP_DAC_READ_SEARCH for its children"))
    }

    /// A child restarted by the supervisor (the user by now) still reads its root-only files:
    /// it starts with the capability the supervisor kept, and drops it once they are read.
    @Test func aRestartedChildStillReadsARootOnlyUsersFile() throws {
        let folder = try TemporaryFolder()
        try folder.write("users", "alice:\(PasswordFile.hash("secret") ?? "!")\n")
        #expect(chmod(folder.path + "/users", 0o600) == 0)
        let server = try ServerProcess(["--services", "ftp", "--listen", "127.0.0.1", "--ftp-port", "0", "--ftp-users", folder.path + "/users",
                                        "--data", folder.path + "/data", "--user", "nobody", "--log-level", "notice"])
        let port = try #require(server.listeningPort())
        let first = try #require(server.child("ftp"))
        #expect(kill(first, SIGKILL) == 0)
        let second = try #require(server.child("ftp", after: [first]))
        #expect(server.logged("ftp child \(first) was killed by signal 9 (Killed); restarting it now"))
        let control = try FTPControl(port: port)
        #expect(control.send("USER alice").hasPrefix("331"))
        #expect(control.send("PASS secret").hasPrefix("230"), "the new child read the users file")
        #expect(try uids(of: second) == ["65534", "65534", "65534", "65534"])
        #expect(try capabilities(of: second) == Self.noCapabilities)
    }

    @Test func singleProcessDropsToTheNamedUserItself() throws {
        let site = try TemporaryFolder()
        try site.write("index.html", "ok")
        let server = try ServerProcess(["--services", "http", "--www", site.path, "--listen", "127.0.0.1", "--http-port", "0",
                                        "--user", "nobody", "--single-process"])
        _ = try #require(server.listeningPort())
        #expect(try uids(of: server.process.processIdentifier) == ["65534", "65534", "65534", "65534"])
    }

    private func uids(of pid: pid_t) throws -> [Substring] {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        return Array(status.split(separator: "\n").first { $0.hasPrefix("Uid:") }?.split(whereSeparator: \.isWhitespace).dropFirst() ?? [])
    }

    static let noCapabilities = ["CapInh": "0000000000000000", "CapPrm": "0000000000000000", "CapEff": "0000000000000000", "CapAmb": "0000000000000000"]

    /// CapInh, CapPrm, CapEff and CapAmb of `pid` (of one of its threads), in hex as /proc shows them.
    private func capabilities(of pid: pid_t, thread: String? = nil) throws -> [String: String] {
        let status = try String(contentsOfFile: "/proc/\(pid)/" + (thread.map { "task/\($0)/" } ?? "") + "status", encoding: .utf8)
        var sets: [String: String] = [:]
        for line in status.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, ["CapInh", "CapPrm", "CapEff", "CapAmb"].contains(parts[0]) { sets[parts[0]] = parts[1] }
        }
        return sets
    }

    /// Issue 18: a SIGHUP reload as the run user read `$INCLUDE`s by path, and failed when a
    /// folder above the zones was closed to that user; they are read through the zones
    /// folder's descriptor, opened as root at start.
    @Test(.enabled(if: Tools.find("dig") != nil, "dig is not installed"))
    func includesReloadWhenAFolderAboveTheZonesIsClosedToTheRunUser() throws {
        let closed = try TemporaryFolder()
        chmod(closed.path, 0o700)
        try closed.write("zones/example.test.zone", "$TTL 60\n@ SOA ns hm 1 1 1 1 30\n$INCLUDE hosts.inc\n")
        try closed.write("zones/hosts.inc", "www A 192.0.2.1\n")
        let server = try ServerProcess(["--services", "dns", "--zones", closed.path + "/zones", "--listen", "127.0.0.1",
                                        "--dns-port", "0", "--user", "nobody"])
        let port = try #require(server.listeningPort())
        func dig() throws -> String {
            try Tools.run("dig", ["@127.0.0.1", "-p", "\(port)", "+time=3", "+tries=1", "+short", "www.example.test"]).text
        }
        #expect(try dig() == "192.0.2.1\n")
        try closed.write("zones/hosts.inc", "www A 192.0.2.2\n")
        server.signal(SIGHUP)
        #expect(server.logged("reloaded dns zones"))
        #expect(!server.stdout.contains("error reload: "), "no zone failed to reload: \(server.stdout)")
        #expect(try dig() == "192.0.2.2\n")
    }

    /// Issue 18: a run as root left data/ to nobody, mode 0700: only root could read the
    /// mail. The folders go to the run user and the operator's group (`--group`), mode 2750,
    /// and what the server creates inside stays readable by that group.
    @Test func dataFoldersStayReadableByTheOperatorsGroup() throws {
        let data = try TemporaryFolder()
        let server = try ServerProcess(["--services", "smtp", "--data", data.path + "/data", "--mail-domain", "example.test",
                                        "--listen", "127.0.0.1", "--smtp-port", "0", "--user", "nobody", "--group", "staff"])
        let port = try #require(server.listeningPort())
        let staff = try #require(getgrnam("staff")).pointee.gr_gid
        for folder in ["data", "data/mail", "data/spool"] {
            var info = stat()
            #expect(stat(data.path + "/" + folder, &info) == 0)
            #expect(info.st_uid == 65534 && info.st_gid == staff, "\(folder)")
            #expect(info.st_mode & 0o7777 == 0o2750, "\(folder)")
        }
        let client = try RawClient(port: port)
        client.send("EHLO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.test>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n")
        _ = client.readAll()
        let inbox = data.path + "/data/mail/example.test/u/new"
        let names = try FileManager.default.contentsOfDirectory(atPath: inbox)
        var folder = stat(), message = stat()
        #expect(stat(inbox, &folder) == 0 && folder.st_gid == staff && folder.st_mode & 0o7777 == 0o2750)
        #expect(stat(inbox + "/" + (names.first ?? "none"), &message) == 0)
        #expect(message.st_gid == staff && message.st_mode & 0o777 == 0o640)
    }

    /// A folder the server's user cannot write is a startup error saying who owns it and
    /// who the server runs as, not a "Permission denied" at the first delivery.
    @Test(.enabled(if: Tools.find("setpriv") != nil, "setpriv is not installed"))
    func aDataFolderTheRunUserCannotWriteSaysWhoOwnsIt() throws {
        let data = try TemporaryFolder()
        let binary = try #require(ServerProcess.binary)
        let result = try Tools.run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", binary, "--services", "smtp",
                                               "--data", data.path, "--listen", "127.0.0.1", "--smtp-port", "0"])
        #expect(result.status == 1)
        #expect(result.stderr == "appserver: cannot write \(data.path): Permission denied; it is owned by root (group root, mode 755), "
            + "and the server runs as nobody\n")
        // A folder left closed by an older run: the one that closes it is named.
        try data.write("closed/mail/x", "")
        chmod(data.path + "/closed", 0o700)
        let closed = try Tools.run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", binary, "--services", "smtp",
                                               "--data", data.path + "/closed/mail", "--listen", "127.0.0.1", "--smtp-port", "0"])
        #expect(closed.stderr == "appserver: cannot write \(data.path)/closed/mail: Permission denied; \(data.path)/closed is owned by root "
            + "(group root, mode 700), and the server runs as nobody\n")
    }

    @Test func unknownUserIsAStartupError() throws {
        let site = try TemporaryFolder()
        let server = try ServerProcess(["--services", "http", "--www", site.path, "--listen", "127.0.0.1", "--http-port", "0", "--user", "no-such-user-here"])
        #expect(server.exitStatus() == 1)
        #expect(server.stderr == "appserver: no such user 'no-such-user-here' to run as (--user)\n")
    }
}
