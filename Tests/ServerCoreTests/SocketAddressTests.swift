import Testing
@testable import ServerCore

@Suite struct SocketAddressTests {
    @Test(arguments: [
        ("127.0.0.1", "127.0.0.1:80"), ("::1", "[::1]:80"), ("[::1]", "[::1]:80"),
        ("0.0.0.0", "0.0.0.0:80"), ("2001:db8::5", "[2001:db8::5]:80"), ("::ffff:192.0.2.1", "[::ffff:192.0.2.1]:80"),
    ])
    func parsesAndPrints(_ text: String, _ printed: String) throws {
        let ip = try #require(IPAddress(text))
        #expect(SocketAddress(ip: ip, port: 80).description == printed)
    }

    @Test(arguments: ["", "localhost", "1.2.3", "1.2.3.4.5", "::g", "300.1.1.1"])
    func rejects(_ text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func loopback() {
        #expect(IPAddress("127.0.0.9")?.isLoopback == true)
        #expect(IPAddress("::1")?.isLoopback == true)
        #expect(IPAddress("10.0.0.1")?.isLoopback == false)
    }

    @Test func connectionIDNamesRemoteThenLocal() throws {
        let id = ConnectionID(local: SocketAddress(ip: try #require(IPAddress("192.0.2.1")), port: 80),
                              remote: SocketAddress(ip: try #require(IPAddress("203.0.113.5")), port: 51234))
        #expect(id.description == "203.0.113.5:51234 -> 192.0.2.1:80")
    }
}
