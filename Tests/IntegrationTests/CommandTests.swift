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

    @Test func portInUseNamesTheFlag() throws {
        let site = try TemporaryFolder()
        let blocker = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(blocker) }
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &sin) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(blocker, address, length) == 0 && listen(blocker, 1) == 0 && getsockname(blocker, address, &length) == 0
            }
        }
        let port = UInt16(bigEndian: sin.sin_port)
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

    @Test func maxPerAddressTurnsTheNextConnectionAway() throws {
        let folder = try TemporaryFolder()
        let server = try ServerProcess(["--services", "smtp", "--smtp-port", "0", "--listen", "127.0.0.1",
                                        "--data", folder.path + "/data", "--max-per-address", "1"])
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
        let peak = try #require(server.peakRSSKiB)
        #expect(peak < 64 * 1024, "peak RSS \(peak) KiB while sending 1 GiB")
    }
}

extension CommandTests {
    @Test(.enabled(if: Tools.hasCurl, "curl is not installed"))
    func listensOnIPv6AndIPv4Together() throws {
        let site = try TemporaryFolder()
        try site.write("index.html", "both")
        let server = try ServerProcess(["--services", "http", "--www", site.path, "--listen", "127.0.0.1", "--listen", "::1", "--http-port", "0"])
        let port = try #require(server.listeningPort())
        let deadline = Date().addingTimeInterval(5)
        while !server.stdout.contains("listening on [::1]:") && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        let v6 = server.stdout.split(separator: "\n").first { $0.contains("listening on [::1]:") }
        let v6Port = try #require(v6?.split(separator: "]:").last?.split(separator: " ").first)
        #expect(try Tools.curl(["http://127.0.0.1:\(port)/"]).text == "both")
        #expect(try Tools.curl(["-g", "http://[::1]:\(v6Port)/"]).text == "both")
    }
}
