import Foundation
import Glibc
import ServerCore
import Testing

/// Every worker accepts and reads its own socket of each port (SO_REUSEPORT, the kernel
/// spreading by the peer's address and port): connections and datagrams spread, and what
/// a session opens stays on its worker.
@Suite struct WorkerSpreadTests {
    typealias EchoHandler = RegistryTests.EchoHandler
    static let loopback = IPAddress("127.0.0.1")!

    /// Loads after `body`, less those before.
    func served(_ registry: ListenerRegistry, during body: () throws -> Void) rethrows -> [WorkerLoad] {
        let before = registry.workerLoads
        try body()
        return zip(registry.workerLoads, before).map {
            WorkerLoad(connections: $0.connections - $1.connections, datagrams: $0.datagrams - $1.datagrams)
        }
    }

    @Test func connectionsSpreadOverTheWorkers() throws {
        let registry = try ListenerRegistry(workers: 2)
        let bound = try registry.addTCP(SocketAddress(ip: Self.loopback, port: 0), service: TCPService { _ in EchoHandler() })
        registry.start()
        defer { registry.shutdown(grace: 0) {} }
        var clients: [RawClient] = []
        let loads = try served(registry) {
            for _ in 0..<64 { clients.append(try RawClient(port: bound.port)) }
            for client in clients { #expect(!client.read(atLeast: 10).isEmpty) }
        }
        #expect(loads.map(\.connections).reduce(0, +) == 64)
        #expect(loads.allSatisfy { $0.connections > 0 }, "\(loads)")
        #expect(registry.connectionCount == 64)
    }

    /// Busy for a moment per datagram, so that a burst outlasts one worker's turn.
    struct SlowEcho: DatagramHandler {
        func datagram(_ bytes: UnsafeRawBufferPointer, from remote: SocketAddress, reply: DatagramReply) {
            let until = DispatchTime.now().uptimeNanoseconds + 50_000
            while DispatchTime.now().uptimeNanoseconds < until {}
            reply.send(Array(bytes))
        }
    }

    @Test func datagramsAreAnsweredByEveryWorkerUnderLoad() throws {
        let registry = try ListenerRegistry(workers: 2)
        let bound = try registry.addUDP(SocketAddress(ip: Self.loopback, port: 0), handler: SlowEcho())
        registry.start()
        defer { registry.shutdown(grace: 0) {} }
        // Enough senders that the kernel's hash of their ports is all but sure to pick both sockets.
        let senders = (0..<16).map { _ in RegistryTests().udpClient(AF_INET) }
        defer { senders.forEach { close($0) } }
        var answered = 0
        let loads = served(registry) {
            for round in 0..<20 {
                for fd in senders {
                    for i in 0..<8 {
                        let payload = [UInt8(round), UInt8(i)]
                        _ = withLoopback(port: bound.port) { sendto(fd, payload, payload.count, 0, $0, $1) }
                    }
                }
                var buffer = [UInt8](repeating: 0, count: 16)
                for fd in senders {
                    for _ in 0..<8 where recv(fd, &buffer, buffer.count, 0) == 2 { answered += 1 }
                }
            }
        }
        #expect(answered == 20 * 16 * 8)
        #expect(loads.map(\.datagrams).reduce(0, +) == answered)
        #expect(loads.allSatisfy { $0.datagrams > 0 }, "\(loads)")
    }

    /// Opens a passive listener from its connection's worker and says where it listens.
    final class Opener: ConnectionHandler, @unchecked Sendable {
        let registry: ListenerRegistry
        let opened = DispatchSemaphore(value: 0)
        var handle: ListenerHandle?

        init(_ registry: ListenerRegistry) { self.registry = registry }

        func connectionOpened(_ connection: any ConnectionContext) {
            handle = try? registry.listen(SocketAddress(ip: WorkerSpreadTests.loopback, port: 0), service: TCPService { _ in EchoHandler() })
            opened.signal()
        }

        func connection(_ connection: any ConnectionContext, received bytes: UnsafeRawBufferPointer) {}
    }

    @Test func aListenerOpenedBySessionServesOnItsWorker() throws {
        let registry = try ListenerRegistry(workers: 2)
        let opener = Opener(registry)
        let bound = try registry.addTCP(SocketAddress(ip: Self.loopback, port: 0), service: TCPService { _ in opener })
        registry.start()
        defer { registry.shutdown(grace: 0) {} }
        var control: RawClient?
        let home = try served(registry) {
            control = try RawClient(port: bound.port)
            #expect(opener.opened.wait(timeout: .now() + 5) == .success)
        }
        let handle = try #require(opener.handle)
        defer { handle.stop() }
        var data: [RawClient] = []
        let loads = try served(registry) {
            for _ in 0..<16 { data.append(try RawClient(port: handle.address.port)) }
            for client in data { #expect(!client.read(atLeast: 10).isEmpty) }
        }
        #expect(control != nil)
        #expect(loads.map { $0.connections / 16 } == home.map(\.connections), "session on \(home), its data on \(loads)")
    }

    /// CPU seconds process `pid` has used (utime + stime).
    func cpuSeconds(_ pid: pid_t) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// With two workers and few descriptors, connections past the limit wait in the backlog
    /// while both workers back off (no spinning on the ready socket), and are served once
    /// descriptors are free again.
    @Test func outOfDescriptorsBacksOffThenServes() throws {
        let site = try TemporaryFolder()
        try site.write("small.txt", "hello")
        let appserver = try #require(ServerProcess.binary)
        let server = try ServerProcess(["-c", "ulimit -n 64 && exec \"$0\" \"$@\"", appserver, "--single-process", "--workers", "2",
                                        "--services", "http", "--www", site.path, "--http-port", "0", "--listen", "127.0.0.1",
                                        // Run through sh, so not given it by ServerProcess.quietAdmin.
                                        "--admin-listen", "off"],
                                       binary: "/bin/sh")
        let port = try #require(server.listeningPort("http"), "\(server.stderr)")
        var held: [RawClient] = []
        for _ in 0..<80 { held.append(try RawClient(port: port, timeout: 2)) }
        let pid = server.process.processIdentifier
        Thread.sleep(forTimeInterval: 0.3)
        let before = try #require(cpuSeconds(pid))
        Thread.sleep(forTimeInterval: 1)
        let spent = try #require(cpuSeconds(pid)) - before
        #expect(spent < 0.3, "\(spent) s of CPU in 1 s out of descriptors")
        #expect(server.process.isRunning)
        held.removeAll()
        let answer = try Tools.curl(["-s", "--max-time", "5", "http://127.0.0.1:\(port)/small.txt"])
        #expect(answer.text == "hello", "\(answer)")
    }
}
