import Foundation
import Glibc
import Testing

/// Sockets handed in by systemd's protocol, as conf/appserver.socket does: here through
/// systemd-socket-activate, which binds, waits for the first connection and then runs the
/// command on the sockets (it works without systemd running).
@Suite(.enabled(if: ServerProcess.binary != nil && Tools.find("systemd-socket-activate") != nil,
                "systemd-socket-activate is not installed (Debian's systemd package)"))
struct SocketActivationTests {
    /// A free loopback port (taken, then let go for systemd-socket-activate to bind).
    func freePort() throws -> UInt16 { try RawListener().port }

    func activate(_ sockets: [(name: String, port: UInt16)], _ arguments: [String]) throws -> ServerProcess {
        let binary = try #require(ServerProcess.binary)
        let activator: String = try #require(Tools.find("systemd-socket-activate"))
        let listen = sockets.flatMap { ["-l", "127.0.0.1:\($0.port)"] }
        return try ServerProcess(listen + ["--fdname=" + sockets.map(\.name).joined(separator: ":"), binary] + arguments,
                                 binary: activator)
    }

    @Test func theSupervisorServesSocketsHandedIn() throws {
        let site = try TemporaryFolder()
        try site.write("index.html", "activated\n")
        let port = try freePort()
        let server = try activate([("http", port)], ["--services", "http", "--www", site.path])
        // The first connection is what starts appserver; until systemd-socket-activate binds, one may be refused.
        #expect(pollUntil(within: 5) { (try? Prober.http(port: port)()) == true })
        #expect(server.logged("listening on 127.0.0.1:\(port) (http, inherited)"))
        let child = try #require(server.child("http"))
        #expect(kill(child, SIGKILL) == 0)
        _ = try #require(server.child("http", after: [child]))
        #expect(try Prober.http(port: port)(), "the socket is systemd's: a restarted child serves it too")
        server.signal(SIGTERM)
        #expect(server.exitStatus() == 0)
    }

    @Test func aSingleProcessServesEverySocketHandedIn() throws {
        let folder = try TemporaryFolder()
        try folder.write("www/index.html", "one\n")
        let (http, smtp) = (try freePort(), try freePort())
        let server = try activate([("http", http), ("smtp", smtp)],
                                  ["--single-process", "--www", folder.path + "/www", "--data", folder.path + "/data"])
        #expect(pollUntil(within: 5) { (try? Prober.http(port: http)()) == true })
        #expect(try Prober.greeting(port: smtp)())
        #expect(server.logged("listening on 127.0.0.1:\(smtp) (smtp, inherited)"))
        #expect(!server.stdout.contains("child"), "no supervisor")
        server.signal(SIGTERM)
        #expect(server.exitStatus() == 0)
    }

    @Test func aSocketOfAnUnknownNameIsOneClearLine() throws {
        let port = try freePort()
        let server = try activate([("gopher", port)], ["--services", "http"])
        #expect(pollUntil(within: 5) { (try? RawClient(port: port)) != nil })
        #expect(server.exitStatus() == 1)
        #expect(server.stderr.hasSuffix("is named 'gopher', not one of http, https, dns-tcp, dns-udp, dot, smtp, smtps, ftp, ftps, admin (FileDescriptorName=), and its port is no service's port\n"),
                "\(server.stderr)")
        // The other lines are systemd-socket-activate's own.
        #expect(server.stderr.split(separator: "\n").filter { $0.hasPrefix("appserver: ") }.count == 1)
    }

    /// One socket unit names all its sockets alike: each is then known by its port.
    @Test func socketsOfOneUnitAreKnownByTheirPorts() throws {
        let folder = try TemporaryFolder()
        try folder.write("www/index.html", "by port\n")
        let (http, smtp) = (try freePort(), try freePort())
        let server = try activate([("appserver.socket", http), ("appserver.socket", smtp)],
                                  ["--services", "http,smtp", "--http-port", "\(http)", "--smtp-port", "\(smtp)",
                                   "--www", folder.path + "/www", "--data", folder.path + "/data"])
        #expect(pollUntil(within: 5) { (try? Prober.http(port: http)()) == true })
        #expect(try Prober.greeting(port: smtp)())
        #expect(server.logged("listening on 127.0.0.1:\(smtp) (smtp, inherited)"))
        server.signal(SIGTERM)
        #expect(server.exitStatus() == 0)
    }

    /// Type=notify: READY=1 reaches NOTIFY_SOCKET once every child serves, from the
    /// supervisor (systemd's main process), and only then.
    @Test func theSupervisorSaysReadyOnceTheChildrenServe() throws {
        let folder = try TemporaryFolder()
        let systemd = try NotifySocket.bound()
        let server = try SupervisorTests.allServices(folder, environment: ["NOTIFY_SOCKET": try #require(systemd.name)])
        #expect(systemd.receive(timeout: 20) == "READY=1")
        for service in ["http", "dns", "smtp", "ftp"] { #expect(server.childPIDs(service).count == 1, "\(service) child started first") }
        #expect(try Prober.http(port: try #require(server.listeningPort("http")))())
    }
}
