import Glibc
import ServerCore
import Testing

@Suite struct SocketActivationTests {
    @Test func descriptorsFromThreeWithTheirNames() throws {
        let found = try SocketActivation.descriptors(pid: "42", count: "3", names: "http:dns-tcp:dns-udp", ownPid: 42)
        #expect(found.map(\.fd) == [3, 4, 5])
        #expect(found.map(\.name) == ["http", "dns-tcp", "dns-udp"])
        let unnamed = try SocketActivation.descriptors(pid: "42", count: "2", names: nil, ownPid: 42)
        #expect(unnamed.map(\.name) == ["unknown", "unknown"])
    }

    @Test func anotherProcessesSocketsAreNotTaken() throws {
        #expect(try SocketActivation.descriptors(pid: "41", count: "1", names: "http", ownPid: 42).isEmpty)
        #expect(try SocketActivation.descriptors(pid: nil, count: "1", names: "http", ownPid: 42).isEmpty)
        #expect(try SocketActivation.descriptors(pid: "42", count: nil, names: nil, ownPid: 42).isEmpty)
    }

    @Test(arguments: [("+42", "1", "http"), ("42", "-1", "http"), ("42", "2", "http"), ("42", "1", "http:smtp"), ("42", "70000", ""), ("42", " 1", "http")])
    func malformedVariablesAreErrors(pid: String, count: String, names: String) {
        #expect(throws: ActivationError.self) { try SocketActivation.descriptors(pid: pid, count: count, names: names, ownPid: 42) }
    }

    @Test func adoptsAListeningSocketAndRefusesOthers() throws {
        let bound = try #require(try ListeningSocket.group(name: "http", datagrams: false, address: SocketAddress(ip: IPAddress("127.0.0.1")!, port: 0), count: 1).first)
        defer { bound.close() }
        let adopted = try ListeningSocket.adopt(fd: bound.fd, name: "http")
        #expect(adopted.address == bound.address && !adopted.datagrams)
        #expect(fcntl(bound.fd, F_GETFD) & FD_CLOEXEC != 0)

        let unlistened = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(unlistened) }
        #expect(throws: ActivationError.self) { try ListeningSocket.adopt(fd: unlistened, name: "http") }
        var pipeEnds: [Int32] = [0, 0]
        #expect(pipe(&pipeEnds) == 0)
        defer { pipeEnds.forEach { close($0) } }
        #expect(throws: ActivationError.self) { try ListeningSocket.adopt(fd: pipeEnds[0], name: "http") }
    }
}
