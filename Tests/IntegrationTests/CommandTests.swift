import Foundation
import Glibc
import Testing

/// The `appserver` command as a user runs it: startup errors, config file, signals.
@Suite(.enabled(if: ServerProcess.binary != nil, "the appserver binary was not found beside the tests"))
struct CommandTests {
    @Test func missingWwwIsOneClearLine() throws {
        let server = try ServerProcess(["--services", "http", "--www", "/nonexistent/site", "--http-port", "0", "--listen", "127.0.0.1"])
        #expect(server.exitStatus() == 1)
        #expect(server.stderr == "appserver: cannot serve /nonexistent/site: No such file or directory\n")
    }

    /// Issue 18: a relative path in an error said nothing of what it was relative to.
    @Test func aRelativePathInAnErrorIsShownFromTheCurrentFolder() throws {
        let here = try TemporaryFolder()
        let server = try ServerProcess(["--services", "http", "--www", "site/../nowhere", "--http-port", "0", "--listen", "127.0.0.1"],
                                       directory: here.path)
        #expect(server.exitStatus() == 1)
        #expect(server.stderr == "appserver: cannot serve \(here.path)/nowhere: No such file or directory\n")
    }

    @Test func portInUseNamesTheFlag() throws {
        let site = try TemporaryFolder()
        let blocker = try RawListener()
        let port = blocker.port
        let server = try ServerProcess(["--services", "http", "--www", site.path, "--http-port", "\(port)", "--listen", "127.0.0.1"])
        #expect(server.exitStatus() == 1)
        #expect(server.stderr.contains("cannot bind 127.0.0.1:\(port): the port is already in use"))
        #expect(server.stderr.contains("--http-port"))
        #expect(server.stderr.split(separator: "\n").count == 1)
    }

    @Test func configErrorsGiveFileAndLine() throws {
        let folder = try TemporaryFolder()
        try folder.write("bad.conf", "# comment\nhttp-port = 8080\nthis is not a setting\n")
        let bad = try ServerProcess(["--config", folder.path + "/bad.conf"])
        #expect(bad.exitStatus() == 1)
        #expect(bad.stderr == "appserver: \(folder.path)/bad.conf:3: expected 'key = value'\n")
        try folder.write("port.conf", "http-port = lots\n")
        let port = try ServerProcess(["--config", folder.path + "/port.conf"])
        #expect(port.exitStatus() == 1)
        #expect(port.stderr.contains("port.conf:1: http-port: expected a number from 0 to 65535, got 'lots'"))
        for (flag, value) in [("--workers", "+2"), ("--http-port", "-0"), ("--max-connections", " 5"),
                              ("--max-per-address", "0x10"), ("--http-port", "65536")] {
            let signed = try ServerProcess(["\(flag)=\(value)", "--services", "http", "--listen", "127.0.0.1"])
            #expect(signed.exitStatus() == 1)
            #expect(signed.stderr.hasPrefix("appserver: \(flag): expected a number from"), "\(flag) \(value)")
        }
        let range = try ServerProcess(["--ftp-passive-ports", "2000-x-3000", "--services", "ftp"])
        #expect(range.exitStatus() == 1)
        #expect(range.stderr.contains("expected MIN-MAX"))
        let service = try ServerProcess(["--services", "gopher"])
        #expect(service.exitStatus() == 1)
        #expect(service.stderr.contains("unknown service 'gopher'"))
    }

    @Test(.enabled(if: Tools.hasCurl, "curl is not installed"))
    func configFileThenFlagsThenSignalExitsZero() throws {
        let folder = try TemporaryFolder()
        try folder.write("site/index.html", "from the config\n")
        try folder.write("flagged/index.html", "from the flag\n")
        try folder.write("conf/test.conf", "services = http\nlisten = 127.0.0.1\nhttp-port = 0\nwww = ../site\nlog-level = info\n")
        let server = try ServerProcess(["--config", folder.path + "/conf/test.conf"])
        let port = try #require(server.listeningPort())
        #expect(try Tools.curl(["http://127.0.0.1:\(port)/"]).text == "from the config\n")
        server.signal(SIGTERM)
        #expect(server.exitStatus() == 0)
        #expect(server.logged("\"GET /\" 200 16"))

        let flagged = try ServerProcess(["--config", folder.path + "/conf/test.conf", "--www", folder.path + "/flagged"])
        let flaggedPort = try #require(flagged.listeningPort())
        #expect(try Tools.curl(["http://127.0.0.1:\(flaggedPort)/"]).text == "from the flag\n")
        flagged.signal(SIGINT)
        #expect(flagged.exitStatus() == 0)
    }

    /// Signal handlers are in place before the first "listening on" line: a SIGTERM sent the
    /// moment it appears is a graceful stop (exit 0), not death by the default action.
    @Test func signalAsSoonAsListeningIsGraceful() throws {
        for number in [SIGTERM, SIGINT, SIGHUP] {
            let folder = try TemporaryFolder()
            let server = try ServerProcess(["--services", "smtp", "--smtp-port", "0", "--listen", "127.0.0.1",
                                            "--data", folder.path + "/data"])
            _ = try #require(server.listeningPort())
            server.signal(number)
            if number == SIGHUP {
                #expect(server.exitStatus(timeout: 1) == nil, "SIGHUP is a reload, not an exit")
                server.signal(SIGTERM)
            }
            #expect(server.exitStatus() == 0)
            #expect(server.process.terminationReason == .exit)
        }
    }

    @Test func pidFileNamesThisServerUntilItStops() throws {
        let folder = try TemporaryFolder()
        let pidFile = folder.path + "/appserver.pid"
        // As root the server would drop to nobody, who may not remove a file in this folder.
        let me = String(cString: getpwuid(getuid()).pointee.pw_name)
        let server = try ServerProcess(["--services", "smtp", "--smtp-port", "0", "--listen", "127.0.0.1",
                                        "--data", folder.path + "/data", "--pid-file", pidFile, "--user", me])
        _ = try #require(server.listeningPort())
        let written = try String(contentsOfFile: pidFile, encoding: .utf8)
        #expect(written == "\(server.process.processIdentifier)\n")
        let second = try ServerProcess(["--services", "smtp", "--smtp-port", "0", "--listen", "127.0.0.1",
                                        "--data", folder.path + "/data2", "--pid-file", pidFile])
        #expect(second.exitStatus() == 1)
        #expect(second.stderr.contains("which is running: another appserver?"))
        server.signal(SIGTERM)
        #expect(server.exitStatus() == 0)
        #expect(!FileManager.default.fileExists(atPath: pidFile))
        try folder.write("appserver.pid", "\(server.process.processIdentifier)\n")
        let third = try ServerProcess(["--services", "smtp", "--smtp-port", "0", "--listen", "127.0.0.1",
                                       "--data", folder.path + "/data", "--pid-file", pidFile, "--user", me])
        #expect(third.listeningPort() != nil, "a pid file naming a process that is gone is taken over")
        third.signal(SIGTERM)
        #expect(third.exitStatus() == 0, "\(third.stdout)|\(third.stderr)|pid \(third.process.processIdentifier)")
    }

    @Test func passwdMakesANewUsersFileReadableByItsOwnerOnly() throws {
        let folder = try TemporaryFolder()
        let binary = try #require(ServerProcess.binary)
        let made = try Tools.run(binary, ["passwd", "erin", "--ftp-users", folder.path + "/new-users"], stdin: Array("s3cret\n".utf8))
        #expect(made.status == 0, "\(made.stderr)")
        var info = stat()
        #expect(stat(folder.path + "/new-users", &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
    }

    @Test func serverWideCapSays421() throws {
        let folder = try TemporaryFolder()
        let server = try ServerProcess(["--services", "smtp", "--smtp-port", "0", "--listen", "127.0.0.1",
                                        "--data", folder.path + "/data", "--max-connections", "1"])
        let port = try #require(server.listeningPort())
        let first = try RawClient(port: port)
        #expect(String(decoding: first.read(atLeast: 4), as: UTF8.self).hasPrefix("220 "))
        let second = try RawClient(port: port)
        #expect(String(decoding: second.readAll(), as: UTF8.self).hasPrefix("421 "))
        server.signal(SIGTERM)
        #expect(server.exitStatus() == 0)
    }

    /// One cap for every TCP service, loopback exempt by default (as Postfix exempts mynetworks).
    @Test func thePerAddressCapCoversHTTPAndSparesLoopback() throws {
        let site = try TemporaryFolder()
        try site.write("index.html", "hi")
        let capped = try ServerProcess(["--services", "http", "--www", site.path, "--http-port", "0", "--listen", "127.0.0.1",
                                        "--max-per-address", "1", "--per-address-exempt", "none"])
        let port = try #require(capped.listeningPort())
        let first = try RawClient(port: port)
        first.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(RawResponse.parseAll(first.read(atLeast: 60)).first?.status == 200)
        let second = try RawClient(port: port)
        #expect(String(decoding: second.readAll(), as: UTF8.self).hasPrefix("HTTP/1.1 503 "))
        #expect(capped.logged("refused: too many connections from this address"))
        let spared = try ServerProcess(["--services", "http", "--www", site.path, "--http-port", "0", "--listen", "127.0.0.1",
                                        "--max-per-address", "1"])
        let sparedPort = try #require(spared.listeningPort())
        let clients = try (0..<3).map { _ in try RawClient(port: sparedPort) }
        for client in clients {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(RawResponse.parseAll(client.read(atLeast: 60)).first?.status == 200)
        }
    }

    @Test func maxPerAddressTurnsTheNextConnectionAway() throws {
        let folder = try TemporaryFolder()
        let server = try ServerProcess(["--services", "smtp", "--smtp-port", "0", "--listen", "127.0.0.1",
                                        "--data", folder.path + "/data", "--max-per-address", "1", "--per-address-exempt", "none"])
        let port = try #require(server.listeningPort())
        let first = try RawClient(port: port)
        #expect(String(decoding: first.read(atLeast: 4), as: UTF8.self).hasPrefix("220 "))
        let second = try RawClient(port: port)
        #expect(String(decoding: second.readAll(), as: UTF8.self).hasPrefix("421 "))
        server.signal(SIGTERM)
        #expect(server.exitStatus() == 0)
    }

    @Test(.enabled(if: Tools.hasCurl, "curl is not installed"))
    func shutdownLetsADownloadFinish() throws {
        let folder = try TemporaryFolder()
        try folder.write("big.bin", patternBytes(64 * 1024 * 1024, seed: 3))
        let server = try ServerProcess(["--services", "http", "--www", folder.path, "--http-port", "0", "--listen", "127.0.0.1"])
        let port = try #require(server.listeningPort())
        let client = try RawClient(port: port)
        client.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        let start = client.read(atLeast: 1)
        server.signal(SIGTERM)
        let rest = client.readAll()
        let responses = RawResponse.parseAll(start + rest)
        #expect(responses.first?.body.count == 64 * 1024 * 1024)
        #expect(server.exitStatus() == 0)
    }

    @Test(.enabled(if: Tools.hasCurl, "curl is not installed"))
    func oneGibibyteWithConstantMemory() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/huge.bin"
        // A sparse file: a gibibyte of zeros that costs no disk.
        #expect(FileManager.default.createFile(atPath: path, contents: Data("start".utf8)))
        #expect(truncate(path, 1 << 30) == 0)
        let server = try ServerProcess(["--services", "http", "--www", folder.path, "--http-port", "0", "--listen", "127.0.0.1", "--log-level", "notice"])
        let port = try #require(server.listeningPort())
        let compared = try Tools.run("sh", ["-c", "curl -sS --max-time 120 http://127.0.0.1:\(port)/huge.bin | cmp - '\(path)' && echo same"], timeout: 150)
        #expect(compared.text == "same\n", "\(compared.stderr)")
        let peak = try #require(server.peakRSSKiB(server.child("http")))
        #expect(peak < 64 * 1024, "the http child's peak RSS \(peak) KiB while sending 1 GiB")
    }
}

extension CommandTests {
    @Test(.enabled(if: Tools.hasCurl, "curl is not installed"))
    func listensOnIPv6AndIPv4Together() throws {
        let site = try TemporaryFolder()
        try site.write("index.html", "both")
        let server = try ServerProcess(["--services", "http,dns", "--www", site.path, "--listen", "127.0.0.1", "--listen", "::1",
                                        "--http-port", "0", "--dns-port", "0", "--zones", site.path])
        let port = try #require(server.listeningPort("http"))
        #expect(server.logged("listening on [::1]:\(port) (http)"), "port 0 is one port on both addresses")
        #expect(server.logged(matching: Regex(#/listening on 127\.0\.0\.1:(\d+) \(dns, tcp and udp\)\n.*listening on \[::1\]:\1 \(dns/#.dotMatchesNewlines())))
        #expect(try Tools.curl(["http://127.0.0.1:\(port)/"]).text == "both")
        #expect(try Tools.curl(["-g", "http://[::1]:\(port)/"]).text == "both")
    }

    /// Everything is checked and bound before the first "listening on": a port clash on the
    /// last service leaves no such line behind the error.
    @Test func aLateBindErrorFollowsNoListeningLine() throws {
        let site = try TemporaryFolder()
        try site.write("users", "")
        let blocker = try RawListener()
        let server = try ServerProcess(["--services", "http,ftp", "--www", site.path, "--listen", "127.0.0.1", "--http-port", "0",
                                        "--ftp-port", "\(blocker.port)", "--ftp-users", site.path + "/users", "--data", site.path + "/data"])
        #expect(server.exitStatus() == 1)
        #expect(server.stderr.contains("cannot bind 127.0.0.1:\(blocker.port): the port is already in use"))
        #expect(!server.stdout.contains("listening on"))
    }
}

extension String {
    func appendingToFile(_ path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(utf8))
    }
}

/// The shipped `conf/`: as it is, and with each commented example line uncommented, it
/// passes `appserver check`; so does every key the file names.
@Suite(.enabled(if: ServerProcess.binary != nil, "the appserver binary was not found beside the tests"))
struct ShippedConfigTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func copyOfShipped() throws -> TemporaryFolder {
        let folder = try TemporaryFolder()
        for name in ["conf", "www"] {
            try FileManager.default.copyItem(at: Self.repo.appendingPathComponent(name), to: URL(fileURLWithPath: folder.path + "/" + name))
        }
        return folder
    }

    @Test func asShippedAndWithEachExampleUncommented() throws {
        let folder = try copyOfShipped()
        let path = folder.path + "/conf/appserver.conf"
        let shipped = try String(contentsOfFile: path, encoding: .utf8)
        let check = try ServerProcess(["check", "--config", path])
        #expect(check.exitStatus() == 0, "\(check.stderr)")
        #expect(check.stdout.hasSuffix("ok\n"))
        let lines = shipped.split(separator: "\n", omittingEmptySubsequences: false)
        let examples = lines.indices.filter { lines[$0].range(of: #"^# [a-z-]+ = "#, options: .regularExpression) != nil }
        #expect(examples.count >= 8)
        var keys = Set<String>()
        for line in lines where line.range(of: #"^(# )?[a-z-]+ ="#, options: .regularExpression) != nil {
            keys.insert(String(line.drop { $0 == "#" || $0 == " " }.prefix { $0 != " " }))
        }
        for index in examples {
            var edited = lines
            edited[index] = edited[index].dropFirst(2)
            try edited.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            let result = try ServerProcess(["check", "--config", path])
            #expect(result.exitStatus() == 0, "uncommented \(lines[index]): \(result.stderr)")
        }
        keys.remove("ftp-anonymous")
        #expect(keys.isSuperset(of: ["pid-file", "max-per-address", "max-connections", "workers", "ftp-root", "upstream"]))
    }

    /// install.sh into a scratch prefix: the installed binary checks the installed config;
    /// the systemd units name the installed paths, and the script says how to enable them;
    /// a second install keeps what the operator edited.
    @Test func installScriptGivesAWorkingLayout() throws {
        let prefix = try TemporaryFolder()
        let binary = try #require(ServerProcess.binary)
        let said = LockedData()
        func install() throws -> Int32 {
            let process = Process(), output = Pipe()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [Self.repo.path + "/install.sh", prefix.path]
            process.environment = ProcessInfo.processInfo.environment.merging(["APPSERVER_BINARY": binary]) { $1 }
            process.standardOutput = output
            try process.run()
            said.set(output.fileHandleForReading.readDataToEndOfFile())
            process.waitUntilExit()
            return process.terminationStatus
        }
        #expect(try install() == 0)
        let units = prefix.path + "/lib/systemd/system"
        let service = try String(contentsOfFile: units + "/appserver.service", encoding: .utf8)
        #expect(service.contains("\nExecStart=\(prefix.path)/bin/appserver --config \(prefix.path)/etc/appserver/appserver.conf\n"))
        #expect(!service.contains("/usr/local/"))
        #expect(try String(contentsOfFile: units + "/appserver.socket", encoding: .utf8)
            == String(contentsOfFile: Self.repo.path + "/conf/appserver.socket", encoding: .utf8))
        #expect(String(decoding: said.get(), as: UTF8.self)
            .contains("sudo systemctl enable --now \(units)/appserver.socket \(units)/appserver.service\n"))
        let config = prefix.path + "/etc/appserver/appserver.conf"
        let check = try Tools.run(prefix.path + "/bin/appserver", ["check", "--config", config])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.text.contains("http: files from \(prefix.path)/share/appserver/www"))
        #expect(check.text.contains("into \(prefix.path)/var/lib/appserver/mail"))
        #expect(try String(contentsOfFile: config, encoding: .utf8).contains("pid-file = \(prefix.path)/var/lib/appserver/appserver.pid"))
        try "# edited\n".appendingToFile(config)
        #expect(try install() == 0)
        #expect(try String(contentsOfFile: config, encoding: .utf8).hasSuffix("# edited\n"))
    }

    @Test func mistakesInTheFileAreNamed() throws {
        let folder = try TemporaryFolder()
        try folder.write("typo.conf", "max-per-adress = 5\n")
        let typo = try ServerProcess(["check", "--config", folder.path + "/typo.conf"])
        #expect(typo.exitStatus() == 1)
        #expect(typo.stderr == "appserver: \(folder.path)/typo.conf:1: unknown key 'max-per-adress'; did you mean 'max-per-address'?\n")
        try folder.write("twice.conf", "http-port = 8080\n# a comment\nhttp-port = 8081   # again\n")
        let twice = try ServerProcess(["check", "--config", folder.path + "/twice.conf"])
        #expect(twice.exitStatus() == 1)
        #expect(twice.stderr == "appserver: \(folder.path)/twice.conf:3: 'http-port' is already set on line 1; give it once\n")
        try folder.write("lists.conf", "services = http\nlisten = 127.0.0.1\nlisten = ::1\nwww = .\nhttp-port = 8080 # trailing\n")
        let lists = try ServerProcess(["check", "--config", folder.path + "/lists.conf"])
        #expect(lists.exitStatus() == 0, "\(lists.stderr)")
        #expect(lists.stdout.contains("would listen on 127.0.0.1:8080, [::1]:8080 (http)"))
    }

    @Test func flagErrorsAreOneLineAndExitOne() throws {
        let unknown = try ServerProcess(["--no-such-flag"])
        #expect(unknown.exitStatus() == 1)
        #expect(unknown.stderr.hasPrefix("appserver: "))
        #expect(unknown.stderr.split(separator: "\n").count == 1)
        let version = try ServerProcess(["--version"])
        #expect(version.exitStatus() == 0)
        #expect(version.stdout.contains("0."))
        let help = try ServerProcess(["--help"])
        #expect(help.exitStatus() == 0)
        #expect(help.stdout.contains("check") && help.stdout.contains("passwd") && help.stdout.contains("--http-port"))
    }
}

extension CommandTests {
    static let shippedWWW = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("www").path

    /// Issue 18: the shipped page said 80, 53, 25 and 21 whatever the server listened on.
    /// Served from memory, it is still a file to HTTP: its ETag answers a conditional GET.
    @Test(.enabled(if: Tools.hasCurl, "curl is not installed"), arguments: [false, true])
    func theShippedPageShowsThePortsInUse(singleProcess: Bool) throws {
        let folder = try TemporaryFolder()
        let server = try ServerProcess(["--services", "http,dns", "--www", Self.shippedWWW, "--listen", "127.0.0.1",
                                        "--http-port", "0", "--dns-port", "0", "--zones", TestDNSServer.shippedZones,
                                        "--data", folder.path + "/data"] + (singleProcess ? ["--single-process"] : []))
        let http = try #require(server.listeningPort("http"))
        let dns = try #require(server.listeningPort("dns"))
        let page = try Tools.curl(["-i", "http://127.0.0.1:\(http)/"]).text
        #expect(page.contains("<!--#port http-->\(http)<!--/port-->"))
        #expect(page.contains("<!--#port dns-->\(dns)<!--/port-->"))
        #expect(page.contains("<!--#port smtp-->off<!--/port-->"))
        let etag = try #require(page.split(separator: "\r\n").first { $0.hasPrefix("ETag: ") }?.dropFirst(6))
        let again = try Tools.curl(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "If-None-Match: \(etag)", "http://127.0.0.1:\(http)/"])
        #expect(again.text == "304")
    }
}
