import Foundation
import Glibc
import Testing

/// The default run: a supervisor holding the sockets, one child per service (issue 15).
@Suite(.enabled(if: ServerProcess.binary != nil, "the appserver binary was not found beside the tests"))
struct SupervisorTests {
    /// All four services on free loopback ports, from `folder`.
    static func allServices(_ folder: TemporaryFolder, ftpPort: UInt16 = 0, binary: String? = nil,
                            environment: [String: String] = [:]) throws -> ServerProcess {
        try folder.write("www/index.html", "hello\n")
        try folder.write("ftp-users", "")
        return try ServerProcess(["--listen", "127.0.0.1", "--http-port", "0", "--https-port", "0", "--dns-port", "0", "--smtp-port", "0", "--ftp-port", "\(ftpPort)",
                                  "--www", folder.path + "/www", "--zones", TestDNSServer.shippedZones, "--data", folder.path + "/data",
                                  "--ftp-users", folder.path + "/ftp-users", "--log-level", "notice"],
                                 environment: environment, binary: binary)
    }

    @Test func killingTheHTTPChildRefusesNothingAndTouchesNoOtherService() throws {
        let folder = try TemporaryFolder()
        let server = try Self.allServices(folder)
        let http = try #require(server.listeningPort("http")), dns = try #require(server.listeningPort("dns, tcp and udp"))
        let smtp = try #require(server.listeningPort("smtp")), ftp = try #require(server.listeningPort("ftp"))
        #expect(try pollUntil(within: 10) { try Prober.http(port: http)() })
        let victim = try #require(server.child("http"))
        let others = ["dns", "smtp", "ftp"].compactMap { server.child($0) }
        #expect(others.count == 3)

        let probes = [Prober(every: 0.05, Prober.http(port: http)),
                      Prober(every: 0.05) { udpExchange(dnsQuery("ns1.example.test."), port: dns) != nil },
                      Prober(every: 0.05, Prober.greeting(port: smtp)), Prober(every: 0.05, Prober.greeting(port: ftp))]
        Thread.sleep(forTimeInterval: 0.5)
        let killed = Date()
        #expect(kill(victim, SIGKILL) == 0)
        let successor = try #require(server.child("http", after: [victim]))
        Thread.sleep(forTimeInterval: 1.5)
        let results = probes.map { $0.stop() }

        let httpResults = results[0]
        #expect(!results.joined().contains { $0.outcome == .refused }, "a connection was refused")
        #expect(httpResults.filter { $0.outcome != .ok }.count <= 1, "more than the request in flight failed")
        let back = try #require(httpResults.first { $0.started > killed && $0.outcome == .ok })
        let gap = back.finished.timeIntervalSince(killed)
        #expect(gap < 1.0, "HTTP answered again \(gap) s after the kill")
        for (name, attempts) in zip(["dns", "smtp", "ftp"], results.dropFirst()) {
            #expect(attempts.count > 20 && attempts.allSatisfy { $0.outcome == .ok }, "\(name) saw the HTTP child's death")
        }
        #expect(server.logged("http child \(victim) was killed by signal 9 (Killed); restarting it now"))
        #expect(others == ["dns", "smtp", "ftp"].compactMap { server.child($0) }, "another child was restarted")

        server.signal(SIGHUP)
        #expect(server.logged("reloaded dns zones") && server.logged("reloaded ftp users"))
        server.signal(SIGTERM)
        #expect(server.exitStatus() == 0)
        for pid in others + [successor] { #expect(kill(pid, 0) != 0, "child \(pid) outlived the supervisor") }
    }

    /// A child that exits at once on every start (the test-only APPSERVER_TEST_CHILD_EXIT)
    /// is restarted after 0, 1, 2 ... s, each time logged; its port still accepts (though it
    /// is not announced: no child serves it) and the other services serve.
    @Test func aChildThatKeepsDyingBacksOff() throws {
        let folder = try TemporaryFolder()
        let ftp = try RawListener().port
        let server = try Self.allServices(folder, ftpPort: ftp, environment: ["APPSERVER_TEST_CHILD_EXIT": "ftp"])
        let http = try #require(server.listeningPort("http"))
        #expect(server.logged("restarting it in 2 s", timeout: 10))
        #expect(!server.stdout.contains("(ftp)"))
        let lines = server.stdout.split(separator: "\n").filter { $0.contains("ftp child") && $0.contains("exited with status 3") }
        #expect(lines.count >= 3)
        for (line, delay) in zip(lines, ["now", "in 1 s", "in 2 s"]) {
            #expect(line.hasSuffix("exited with status 3; restarting it \(delay)"), "\(line)")
        }
        #expect(try Prober.http(port: http)(), "http serves while ftp backs off")
        #expect((try? RawClient(port: ftp)) != nil, "the ftp port is still open in the supervisor")
        server.signal(SIGTERM)
        #expect(server.exitStatus() == 0)
    }

    /// `single-process = yes` in the config file is --single-process: no child, and one
    /// process serves; a value neither yes nor no is named with its line.
    @Test func singleProcessFromTheConfigFile() throws {
        let folder = try TemporaryFolder()
        try folder.write("www/index.html", "hello\n")
        try folder.write("one.conf", "services = http\nwww = www\nsingle-process = yes\n")
        let server = try ServerProcess(["--config", folder.path + "/one.conf", "--listen", "127.0.0.1", "--http-port", "0"])
        let http = try #require(server.listeningPort("http"))
        #expect(try Prober.http(port: http)())
        let pid = server.process.processIdentifier
        let children = try String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)
        #expect(children.isEmpty && server.childPIDs("http").isEmpty, "a child was started: \(children)")
        try folder.write("bad.conf", "services = http\nwww = www\nsingle-process = maybe\n")
        let bad = try ServerProcess(["--config", folder.path + "/bad.conf", "--listen", "127.0.0.1", "--http-port", "0"])
        #expect(bad.exitStatus() == 1)
        #expect(bad.stderr == "appserver: \(folder.path)/bad.conf:3: single-process: expected yes or no, got 'maybe'\n")
    }

    /// Any local process may send to a child's notify socket (an abstract name): only the
    /// child's own datagrams count. Here the FTP child never serves, and READY=1 sent by
    /// this process to its sockets neither announces it nor lets the supervisor tell
    /// systemd that everything serves.
    @Test func readyFromAnotherProcessIsIgnored() throws {
        let folder = try TemporaryFolder()
        let systemd = try NotifySocket.bound()
        let server = try Self.allServices(folder, environment: ["APPSERVER_TEST_CHILD_EXIT": "ftp", "NOTIFY_SOCKET": try #require(systemd.name)])
        let supervisor = server.process.processIdentifier
        let forger = NotifySocket()
        let warning = "ignoring notifications from process \(getpid()) to the ftp child's socket"
        // Each child's socket is appserver-SUPERVISOR-N, N counting the starts; an FTP child
        // lives for a few milliseconds, so its names are tried until one is heard.
        let deadline = Date().addingTimeInterval(15)
        while !server.stdout.contains(warning) && Date() < deadline {
            for serial in 1...24 { forger.send("READY=1", to: "appserver-\(supervisor)-\(serial)") }
            usleep(500)
        }
        #expect(server.stdout.contains(warning))
        #expect(server.logged("ignoring notifications from process \(getpid()) to the http child's socket: only child"))
        #expect(!server.stdout.contains("(ftp)"), "the ftp port was announced")
        #expect(systemd.receive(timeout: 0) == nil, "the supervisor told systemd that every child serves")
        server.signal(SIGTERM)
        #expect(server.exitStatus() == 0)
    }
}
