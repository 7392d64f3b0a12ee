import DNSService
import ServerCore
import Testing

/// `--upstream` values: plain `IP[:PORT]`, or `tls://IP[:PORT][#NAME]`.
@Suite struct UpstreamTests {
    @Test(arguments: [
        ("192.0.2.53", "192.0.2.53:53", nil),
        ("[2001:db8::53]:5353", "[2001:db8::53]:5353", nil),
        ("tls://9.9.9.9#dns.quad9.net", "9.9.9.9:853", "dns.quad9.net"),
        ("tls://127.0.0.1:8853#Local-Host.test", "127.0.0.1:8853", "Local-Host.test"),
        ("tls://[2606:4700:4700::1111]#one.one.one.one", "[2606:4700:4700::1111]:853", "one.one.one.one"),
        ("tls://1.1.1.1", "1.1.1.1:853", "1.1.1.1"),
        ("tls://192.0.2.1#192.0.2.1", "192.0.2.1:853", "192.0.2.1"),
    ] as [(String, String, String?)])
    func parses(text: String, address: String, name: String?) throws {
        let upstream = try #require(Upstream(text))
        #expect(upstream.address.description == address)
        #expect(upstream.tlsName == name)
        #expect(Upstream(upstream.description) == upstream, "the description reads back")
    }

    @Test(arguments: ["", "tls://", "tls://#name", "tls://dns.quad9.net", "tls://9.9.9.9#", "tls://9.9.9.9#bad name",
                      "tls://9.9.9.9#-dash.test", "tls://9.9.9.9#a..b", "tls://9.9.9.9#dot.", "tls://9.9.9.9:99999#x.test",
                      "tls://9.9.9.9#" + String(repeating: "a", count: 64) + ".test", "https://9.9.9.9", "9.9.9.9#name"])
    func refuses(text: String) {
        #expect(Upstream(text) == nil)
    }
}
