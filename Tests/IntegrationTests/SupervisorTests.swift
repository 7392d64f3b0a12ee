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
        return try ServerProcess(["--listen", "127.0.0.1", "--http-port", "0", "--https-port", "0", "--dns-port", "0", "--dot-port", "0", "--smtp-port", "0", "--ftp-port", "\(ftpPort)",
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

    /// SIGUSR2 under load: a new generation from the binary now on disk takes over; not one
    /// request fails, and afterwards only the new children serve.
    @Test func upgradeOnSIGUSR2LosesNoRequest() throws {
        let folder = try TemporaryFolder()
        let built = try #require(ServerProcess.binary)
        let binary = folder.path + "/appserver"
        try FileManager.default.copyItem(atPath: built, toPath: binary)
        let server = try Self.allServices(folder, binary: binary)
        let http = try #require(server.listeningPort("http"))
        #expect(try pollUntil(within: 10) { try Prober.http(port: http)() })
        let old = try #require(server.child("http"))

        // A new binary is installed as an upgrade would be: a new file renamed over the old.
        try FileManager.default.copyItem(atPath: built, toPath: binary + ".new")
        #expect(rename(binary + ".new", binary) == 0)
        let load = (0..<4).map { _ in Prober(every: 0, Prober.http(port: http)) }
        Thread.sleep(forTimeInterval: 0.5)
        server.signal(SIGUSR2)
        let new = try #require(server.child("http", after: [old]))
        #expect(server.logged("http child \(new) is ready; stopping child \(old)"))
        #expect(server.logged("http child \(old) stopped"))
        Thread.sleep(forTimeInterval: 0.5)
        let attempts = load.flatMap { $0.stop() }
        #expect(attempts.count > 100)
        #expect(attempts.allSatisfy { $0.outcome == .ok }, "\(attempts.filter { $0.outcome != .ok }.count) of \(attempts.count) failed")

        var installed = stat(), running = stat()
        #expect(stat(binary, &installed) == 0 && stat("/proc/\(new)/exe", &running) == 0)
        #expect(running.st_ino == installed.st_ino, "the new child runs the binary on disk")
        #expect(kill(old, 0) != 0, "the old child is gone")
        for service in ["dns", "smtp", "ftp"] { #expect(server.childPIDs(service).count == 2, "\(service) has a new child") }
        #expect(try Prober.http(port: http)())
        server.signal(SIGTERM)
        #expect(server.exitStatus() == 0)
    }
}
