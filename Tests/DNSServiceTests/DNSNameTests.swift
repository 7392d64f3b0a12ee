import Testing
@testable import DNSService

@Suite struct DNSNameTests {
    let origin = DNSName("example.test.")!

    @Test func parsesAbsoluteRelativeAndAt() {
        #expect(DNSName("www.example.test.")?.labels.map { String(decoding: $0, as: UTF8.self) } == ["www", "example", "test"])
        #expect(DNSName("www", origin: origin) == DNSName("www.example.test."))
        #expect(DNSName("@", origin: origin) == origin)
        #expect(DNSName(".") == .root)
        #expect(DNSName("relative") == nil)
    }

    @Test func escapesRoundTrip() {
        let name = DNSName("a\\.b.c\\032d.\\\\.")
        #expect(name?.labels.count == 3)
        #expect(name?.labels[0] == Array("a.b".utf8))
        #expect(name?.labels[1] == Array("c d".utf8))
        #expect(name?.description == "a\\.b.c\\032d.\\\\.")
    }

    @Test func rejectsMalformed() {
        #expect(DNSName("a..b.") == nil)
        #expect(DNSName(String(repeating: "a", count: 64) + ".") == nil)
        #expect(DNSName(Array(repeating: String(repeating: "a", count: 63), count: 4).joined(separator: ".") + ".") == nil)
        #expect(DNSName("bad\\99.") == nil)
        #expect(DNSName("bad\\256.") == nil)
    }

    @Test func comparesWithoutCase() {
        let upper = DNSName("WWW.Example.TEST.")!
        #expect(upper == DNSName("www.example.test.")!)
        #expect(Set([upper, DNSName("www.example.test.")!]).count == 1)
        #expect(upper.description == "WWW.Example.TEST.")
        #expect(upper.isSubdomain(of: origin))
        #expect(!origin.isSubdomain(of: upper))
        #expect(DNSName("notexample.test.")!.isSubdomain(of: origin) == false)
        #expect(origin.isSubdomain(of: .root))
    }
}
