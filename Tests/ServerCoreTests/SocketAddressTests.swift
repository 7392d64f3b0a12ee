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

    @Test(arguments: [
        ("192.0.2.1:5353", "192.0.2.1:5353"), ("192.0.2.1", "192.0.2.1:53"), ("[2001:db8::1]:8053", "[2001:db8::1]:8053"),
        ("2001:db8::1", "[2001:db8::1]:53"), ("[::1]", "[::1]:53"),
    ])
    func hostAndPort(_ text: String, _ printed: String) {
        #expect(SocketAddress(text, defaultPort: 53)?.description == printed)
    }

    @Test(arguments: ["192.0.2.1:", "192.0.2.1:99999", "host:53", "2001:db8::1:x", ""])
    func badHostAndPort(_ text: String) {
        #expect(SocketAddress(text, defaultPort: 53) == nil)
    }

    @Test func connectionIDNamesRemoteThenLocal() throws {
        let id = ConnectionID(local: SocketAddress(ip: try #require(IPAddress("192.0.2.1")), port: 80),
                              remote: SocketAddress(ip: try #require(IPAddress("203.0.113.5")), port: 51234))
        #expect(id.description == "203.0.113.5:51234 -> 192.0.2.1:80")
    }
}

@Suite struct IPNetworkTests {
    @Test(arguments: [
        ("10.0.0.0/8", "10.200.3.4", true), ("10.0.0.0/8", "11.0.0.1", false), ("172.16.0.0/12", "172.31.255.255", true),
        ("172.16.0.0/12", "172.32.0.1", false), ("192.0.2.7", "192.0.2.7", true), ("192.0.2.7", "192.0.2.8", false),
        ("0.0.0.0/0", "203.0.113.9", true), ("fc00::/7", "fd12::1", true), ("fc00::/7", "fe80::1", false),
        ("::1/128", "::1", true), ("10.0.0.0/8", "::ffff:10.0.0.1", false), ("2001:db8::/33", "2001:db8:7fff::1", true),
        ("2001:db8::/33", "2001:db8:8000::1", false),
    ])
    func contains(_ network: String, _ address: String, _ expected: Bool) throws {
        let net = try #require(IPNetwork(network))
        #expect(net.contains(try #require(IPAddress(address))) == expected)
    }

    @Test(arguments: ["10.0.0.0/33", "::/129", "10.0.0.0/-1", "nonsense/8", ""])
    func rejects(_ text: String) {
        #expect(IPNetwork(text) == nil)
    }
}
