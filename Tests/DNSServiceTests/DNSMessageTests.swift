import Testing
@testable import DNSService

@Suite struct DNSMessageTests {
    /// `dig example.com A` as it goes on the wire: ID 0x1234, RD, one question.
    let query: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                          7] + Array("example".utf8) + [3] + Array("com".utf8) + [0, 0x00, 0x01, 0x00, 0x01]

    func name(_ text: String) -> DNSName { DNSName(text)! }

    @Test func decodesAQueryFixture() throws {
        let message = try DNSMessage.decode(query)
        #expect(message.id == 0x1234)
        #expect(message.recursionDesired)
        #expect(!message.isResponse)
        #expect(message.questions == [.init(name: name("example.com."), type: .a)])
        #expect(message.edns == nil)
        #expect(message.encode() == query)
    }

    static let everyType: [ResourceRecord] = {
        let n = DNSName("host.example.test.")!
        let soa = RData.SOA(mname: DNSName("ns1.example.test.")!, rname: DNSName("hostmaster.example.test.")!,
                            serial: 2026112501, refresh: 7200, retry: 900, expire: 1_209_600, minimum: 300)
        return [
            ResourceRecord(name: n, type: .a, ttl: 60, data: .a([192, 0, 2, 1])),
            ResourceRecord(name: n, type: .aaaa, ttl: 60, data: .aaaa([0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1])),
            ResourceRecord(name: n, type: .ns, ttl: 60, data: .ns(DNSName("ns1.example.test.")!)),
            ResourceRecord(name: n, type: .cname, ttl: 60, data: .cname(DNSName("other.example.test.")!)),
            ResourceRecord(name: n, type: .soa, ttl: 60, data: .soa(soa)),
            ResourceRecord(name: n, type: .ptr, ttl: 60, data: .ptr(DNSName("example.test.")!)),
            ResourceRecord(name: n, type: .mx, ttl: 60, data: .mx(preference: 10, exchange: DNSName("mail.example.test.")!)),
            ResourceRecord(name: n, type: .txt, ttl: 60, data: .txt([Array("one".utf8), [], Array("three;\"".utf8)])),
            ResourceRecord(name: n, type: .srv, ttl: 60, data: .srv(priority: 1, weight: 2, port: 5060, target: DNSName("sip.example.test.")!)),
            ResourceRecord(name: n, type: .caa, ttl: 60, data: .caa(flags: 0, tag: Array("issue".utf8), value: Array("ca.test".utf8))),
            ResourceRecord(name: n, type: RRType(rawValue: 65534), ttl: 60, data: .unknown([1, 2, 3])),
        ]
    }()

    @Test func everyTypeRoundTripsWithCompression() throws {
        var message = DNSMessage()
        message.id = 7
        message.isResponse = true
        message.authoritative = true
        message.questions = [.init(name: name("host.example.test."), type: .any)]
        message.answers = DNSMessageTests.everyType
        message.edns = .init(udpSize: 1232, dnssecOK: true)
        let bytes = message.encode()
        #expect(try DNSMessage.decode(bytes) == message)
        // Eleven owners and most targets share a suffix: compression must have shrunk them.
        let uncompressed = DNSMessageTests.everyType.reduce(0) { $0 + $1.name.wireLength + 10 } + 200
        #expect(bytes.count < uncompressed)
    }

    @Test func pointersMustPointBackwards() {
        var selfLoop = Array(query.prefix(12))
        selfLoop += [0xC0, 12, 0, 1, 0, 1]
        #expect(throws: DNSWireError.badPointer) { try DNSMessage.decode(selfLoop) }
        var forward = Array(query.prefix(12))
        forward += [0xC0, 20, 0, 1, 0, 1, 0, 0, 0]
        #expect(throws: DNSWireError.badPointer) { try DNSMessage.decode(forward) }
    }

    @Test func badLabelsAndLongNames() {
        var extended = Array(query.prefix(12))
        extended += [0x41, 0, 0, 1, 0, 1]
        #expect(throws: DNSWireError.badLabel) { try DNSMessage.decode(extended) }
        var long = Array(query.prefix(12))
        for _ in 0..<5 { long += [63] + Array(repeating: UInt8(ascii: "a"), count: 63) }
        long += [0, 0, 1, 0, 1]
        #expect(throws: DNSWireError.nameTooLong) { try DNSMessage.decode(long) }
    }

    @Test func truncatedAtEveryLengthFailsCleanly() throws {
        var message = DNSMessage()
        message.questions = [.init(name: name("host.example.test."), type: .any)]
        message.answers = DNSMessageTests.everyType
        let bytes = message.encode()
        for length in 0..<bytes.count {
            #expect(throws: DNSWireError.self) { try DNSMessage.decode(Array(bytes.prefix(length))) }
        }
    }

    @Test func rdlengthMustMatch() {
        // An A record claiming 5 bytes of data.
        var bytes: [UInt8] = [0, 1, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0]
        bytes += [0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 5, 1, 2, 3, 4, 5]
        #expect(throws: DNSWireError.badRData(.a)) { try DNSMessage.decode(bytes) }
    }

    @Test func ednsVersionAndExtendedRCode() throws {
        var message = DNSMessage()
        message.isResponse = true
        message.rcode = RCode.badVers.rawValue
        message.edns = .init(udpSize: 1232)
        let bytes = message.encode()
        #expect(bytes[3] & 0x0F == 0)
        let decoded = try DNSMessage.decode(bytes)
        #expect(decoded.rcode == RCode.badVers.rawValue)
    }

    @Test func truncationDropsWholeRRsetsAndSetsTC() throws {
        var message = DNSMessage()
        message.isResponse = true
        message.questions = [.init(name: name("big.example.test."), type: .txt)]
        let owner = name("big.example.test.")
        message.answers = (0..<3).map { ResourceRecord(name: owner, type: .txt, ttl: 60, data: .txt([Array(repeating: UInt8(ascii: "x"), count: 200 + $0)])) }
        message.additional = [ResourceRecord(name: name("a.example.test."), type: .a, ttl: 60, data: .a([192, 0, 2, 1]))]
        let small = try DNSMessage.decode(message.encode(maxSize: 512))
        #expect(small.truncated)
        #expect(small.answers.isEmpty)
        #expect(small.additional.isEmpty)
        let large = try DNSMessage.decode(message.encode(maxSize: 1232))
        #expect(!large.truncated)
        #expect(large.answers.count == 3)
        #expect(large.additional.count == 1)
        message.edns = .init(udpSize: 1232)
        #expect(try DNSMessage.decode(message.encode(maxSize: 512)).edns != nil)
    }

    @Test func splitsRRsets() {
        let rrsets = DNSMessage.rrsets(DNSMessageTests.everyType + DNSMessageTests.everyType.prefix(1))
        #expect(rrsets.count == 12)
    }
}
