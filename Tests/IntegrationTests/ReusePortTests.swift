import Foundation
import Glibc
import Testing

/// The command binds each port once per worker (SO_REUSEPORT), in the supervisor as in
/// --single-process, every socket is served, and a second appserver of the same user on
/// the port is refused, not let in to share it.
@Suite(.enabled(if: ServerProcess.binary != nil && Tools.find("dig") != nil, "needs the appserver binary and dig"))
struct ReusePortTests {
    /// How many sockets are bound to 127.0.0.1:`port` in `table` ("tcp": listening ones; "udp").
    static func sockets(_ table: String, port: UInt16) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/net/" + table, encoding: .utf8) else { return 0 }
        let local = "0100007F:" + String(format: "%04X", port)
        return text.split(separator: "\n").dropFirst().filter { line in
            let fields = line.split(separator: " ")
            return fields.count > 3 && fields[1] == local && (table == "udp" || fields[3] == "0A")
        }.count
    }

    static func start(_ folder: TemporaryFolder, workers: Int, singleProcess: Bool, port: UInt16 = 0) throws -> ServerProcess {
        try folder.write("www/index.html", "spread")
        try folder.write("zones/spread.test.zone", DNSCommandTests.zone)
        return try ServerProcess(["--services", "http,dns", "--workers", "\(workers)", "--www", folder.path + "/www", "--http-port", "\(port)",
                                  "--zones", folder.path + "/zones", "--dns-port", "0", "--dot-port", "0", "--data", folder.path + "/data",
                                  "--listen", "127.0.0.1"] + (singleProcess ? ["--single-process"] : []))
    }

    @Test(arguments: [false, true])
    func everyWorkerHasItsOwnSocketAndAllAreServed(singleProcess: Bool) throws {
        let folder = try TemporaryFolder()
        let server = try Self.start(folder, workers: 3, singleProcess: singleProcess)
        let http = try #require(server.listeningPort("http"))
        let dns = try #require(server.listeningPort("dns"))
        #expect(Self.sockets("tcp", port: http) == 3)
        #expect(Self.sockets("tcp", port: dns) == 3)
        #expect(Self.sockets("udp", port: dns) == 3)
        // Each connection and query from its own port: the kernel spreads them over all three
        // sockets, and an unwatched one would leave some unanswered.
        var clients: [RawClient] = []
        for _ in 0..<24 { clients.append(try RawClient(port: http, timeout: 5)) }
        for client in clients { client.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") }
        #expect(clients.allSatisfy { String(decoding: $0.readAll(), as: UTF8.self).hasSuffix("spread") })
        for _ in 0..<12 {
            let answer = try Tools.run("dig", ["@127.0.0.1", "-p", "\(dns)", "+time=3", "+tries=1", "+short", "host.spread.test"])
            #expect(answer.text == "192.0.2.1\n")
        }
    }

    @Test func aSecondAppserverOnThePortIsOneLineAndExitsNonZero() throws {
        let first = try TemporaryFolder(), second = try TemporaryFolder()
        let running = try Self.start(first, workers: 2, singleProcess: false)
        let port = try #require(running.listeningPort("http"))
        let clash = try Self.start(second, workers: 2, singleProcess: false, port: port)
        #expect(clash.exitStatus() == 1)
        #expect(clash.stderr.contains("cannot bind 127.0.0.1:\(port): the port is already in use"), "\(clash.stderr)")
        #expect(clash.stderr.split(separator: "\n").count == 1)
        #expect(Self.sockets("tcp", port: port) == 2)
        #expect(running.process.isRunning)
    }
}
