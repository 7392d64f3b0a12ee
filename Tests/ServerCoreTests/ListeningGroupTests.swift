import Glibc
import ServerCore
import Testing

/// A port bound once per worker: one port for all (port 0 too), SO_REUSEPORT beyond one,
/// and a port someone holds is "in use" even to a group of the same user.
@Suite struct ListeningGroupTests {
    static let loopback = SocketAddress(ip: IPAddress("127.0.0.1")!, port: 0)

    func reusesPort(_ fd: Int32) -> Bool {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &value, &length) == 0 && value == 1
    }

    @Test(arguments: [false, true])
    func portZeroIsOnePortForTheWholeGroup(datagrams: Bool) throws {
        let group = try ListeningSocket.group(name: "http", datagrams: datagrams, address: Self.loopback, count: 3)
        defer { group.forEach { $0.close() } }
        let port = try #require(group.first?.address.port)
        #expect(group.count == 3)
        #expect(port != 0)
        #expect(group.allSatisfy { $0.address.port == port && $0.name == "http" && $0.datagrams == datagrams })
        #expect(group.allSatisfy { reusesPort($0.fd) })
    }

    @Test func aSingleSocketDoesNotShareItsPort() throws {
        let single = try ListeningSocket.group(name: "http", datagrams: false, address: Self.loopback, count: 1)
        defer { single.forEach { $0.close() } }
        #expect(single.count == 1)
        #expect(single.allSatisfy { !reusesPort($0.fd) })
    }

    /// Another group of this user on a held port fails, where SO_REUSEPORT alone would join.
    @Test(arguments: [false, true])
    func aSecondGroupOnThePortIsRefused(datagrams: Bool) throws {
        let first = try ListeningSocket.group(name: "dns", datagrams: datagrams, address: Self.loopback, count: 2)
        defer { first.forEach { $0.close() } }
        let address = try #require(first.first?.address)
        for count in [1, 2] {
            #expect {
                try ListeningSocket.group(name: "dns", datagrams: datagrams, address: address, count: count).forEach { $0.close() }
            } throws: { error in
                (error as? SocketError)?.errno == EADDRINUSE && (error as? SocketError)?.address == address
            }
        }
    }
}
