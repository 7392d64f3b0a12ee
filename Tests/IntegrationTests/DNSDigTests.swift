import DNSService
import Foundation
import ServerCore
import Testing

/// The DNS service against dig (and kdig), on the zones shipped in conf/zones.
@Suite(.enabled(if: Tools.find("dig") != nil, "dig is not installed (dnsutils): skipping the dig tests"))
struct DNSDigTests {
    @Test func udpAnswersFromTheShippedZone() throws {
        let server = try TestDNSServer()
        #expect(try server.dig(["+short", "ns1.example.test", "A"]).text == "192.0.2.1\n")
        let www = try server.dig(["+noall", "+answer", "www.example.test"]).text
        #expect(www.contains("www.example.test.\t3600\tIN\tCNAME\texample.test."))
        #expect(www.contains("example.test.\t\t3600\tIN\tA\t192.0.2.10"))
        let mx = try server.dig(["+noall", "+answer", "+additional", "+comments", "example.test", "MX"]).text
        #expect(mx.contains("flags: qr aa rd"))
        #expect(mx.contains("mail.example.test.\t300\tIN\tA\t192.0.2.25"))
        let txt = try server.dig(["+short", "text.example.test", "TXT"]).text
        #expect(txt.contains(#""first string" "second \"quoted\" string" "semi;colon" "ABC""#))
        #expect(try server.dig(["+short", "alpha.hosts.example.test"]).text == "192.0.2.101\n")
        #expect(try server.dig(["+short", "-x", "192.0.2.25"]).text == "mail.example.test.\n")
        #expect(try server.dig(["+short", "opaque.example.test", "TYPE65534"]).text == "\\# 4 0A000001\n")
    }

    @Test func negativeAnswersWildcardsAndReferrals() throws {
        let server = try TestDNSServer()
        let nx = try server.dig(["+noall", "+comments", "+authority", "nothing.example.test"]).text
        #expect(nx.contains("status: NXDOMAIN"))
        #expect(nx.contains("example.test.\t\t300\tIN\tSOA\tns1.example.test. hostmaster.example.test. 2026112501"))
        #expect(try server.dig(["+noall", "+comments", "b.example.test"]).text.contains("status: NOERROR"))
        #expect(try server.dig(["+short", "Any-Name.wild.example.test"]).text == "192.0.2.80\n")
        let referral = try server.dig(["+noall", "+comments", "+authority", "+additional", "www.sub.example.test"]).text
        #expect(referral.contains("flags: qr rd;"))
        #expect(referral.contains("sub.example.test.\t3600\tIN\tNS\tns.sub.example.test."))
        #expect(referral.contains("ns.sub.example.test.\t3600\tIN\tA\t192.0.2.53"))
        #expect(try server.dig(["+noall", "+comments", "example.com"]).text.contains("status: REFUSED"))
    }

    @Test func tcpAndEDNS() throws {
        let server = try TestDNSServer()
        #expect(try server.dig(["+tcp", "+short", "mail.example.test"]).text == "192.0.2.25\n")
        let edns = try server.dig(["+bufsize=4096", "+noall", "+comments", "example.test", "SOA"]).text
        #expect(edns.contains("EDNS: version: 0, flags:; udp: 1232"))
        let badvers = try server.dig(["+edns=1", "+noednsnegotiation", "+noall", "+comments", "example.test"]).text
        #expect(badvers.contains("status: BADVERS"))
    }

    @Test func truncatedThenRetriedOverTCP() throws {
        let server = try TestDNSServer()
        let ignored = try server.dig(["+noedns", "+ignore", "+noall", "+comments", "mail._domainkey.example.test", "TXT"]).text
        #expect(ignored.contains("flags: qr aa tc rd"))
        let retried = try server.dig(["+noedns", "mail._domainkey.example.test", "TXT"]).text
        #expect(retried.contains("Truncated, retrying in TCP mode"))
        #expect(retried.contains("\"v=DKIM1; k=rsa; p=\""))
        #expect(retried.contains("xRmBc48HwuTpEA=="))
    }

    @Test(.enabled(if: Tools.find("kdig") != nil, "kdig is not installed (knot-dnsutils)"))
    func kdigOverUDPAndTCP() throws {
        let server = try TestDNSServer()
        let udp = try Tools.run("kdig", ["@127.0.0.1", "-p", "\(server.port)", "+short", "ns2.example.test", "AAAA"])
        #expect(udp.text == "2001:db8::2\n")
        let tcp = try Tools.run("kdig", ["@127.0.0.1", "-p", "\(server.port)", "+tcp", "+short", "_sip._tcp.example.test", "SRV"])
        #expect(tcp.text == "10 60 5060 sip.example.test.\n")
    }

    @Test func forwardsCachesAndServesAfterUpstreamStops() throws {
        let upstreamZones = try TemporaryFolder("zones")
        try upstreamZones.write("upstream.test.zone", "$TTL 300\n@ SOA ns hm 1 1 1 1 60\nhost A 198.51.100.1\nother A 198.51.100.2\n")
        let upstream = try TestDNSServer(zones: upstreamZones.path)
        let server = try TestDNSServer(upstreams: [upstream.address])
        let first = try server.dig(["+noall", "+comments", "+answer", "host.upstream.test"]).text
        #expect(first.contains("flags: qr rd ra;"))
        #expect(first.contains("host.upstream.test.\t300\tIN\tA\t198.51.100.1"))
        let nx = try server.dig(["+noall", "+comments", "missing.upstream.test"]).text
        #expect(nx.contains("status: NXDOMAIN"))
        upstream.stop()
        Thread.sleep(forTimeInterval: 1.1)
        let cached = try server.dig(["+noall", "+answer", "host.upstream.test"]).text
        #expect(cached.contains("198.51.100.1"))
        #expect(!cached.contains("\t300\t"), "a cached TTL counts down: \(cached)")
        #expect(try server.dig(["+noall", "+comments", "missing.upstream.test"]).text.contains("status: NXDOMAIN"))
        let started = Date()
        let down = try server.dig(["+noall", "+comments", "other.upstream.test"]).text
        #expect(down.contains("status: SERVFAIL"))
        #expect(Date().timeIntervalSince(started) < 4)
        // Our own zones do not depend on the upstream.
        #expect(try server.dig(["+short", "ns1.example.test"]).text == "192.0.2.1\n")
    }

    @Test func largeUpstreamAnswerComesOverTCPAndIsRetruncatedForTheClient() throws {
        let upstreamZones = try TemporaryFolder("zones")
        let big = (0..<10).map { "big TXT \"\(String(repeating: "y", count: 200))\($0)\"" }.joined(separator: "\n")
        try upstreamZones.write("upstream.test.zone", "$TTL 300\n@ SOA ns hm 1 1 1 1 60\n\(big)\n")
        let upstream = try TestDNSServer(zones: upstreamZones.path)
        let server = try TestDNSServer(upstreams: [upstream.address])
        let answer = try server.dig(["+noall", "+answer", "big.upstream.test", "TXT"]).text
        #expect(answer.split(separator: "\n").count == 10)
    }

    @Test func garbageThenStillServing() throws {
        let server = try TestDNSServer()
        for length in [0, 1, 11, 12, 13, 40, 512, 1500] {
            _ = udpExchange(patternBytes(length, seed: UInt64(length)), port: server.port, timeout: 1)
        }
        let formerr = udpExchange([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 0x0C, 0, 1, 0, 1], port: server.port)
        #expect(formerr.map { $0[3] & 0x0F } == 1)
        let client = try RawClient(port: server.port)
        client.send([0x00, 0x05, 1, 2, 3, 4, 5, 0xFF, 0xFF] + patternBytes(100))
        client.hangUp()
        #expect(try server.dig(["+short", "ns1.example.test"]).text == "192.0.2.1\n")
        #expect(try server.dig(["+tcp", "+short", "ns1.example.test"]).text == "192.0.2.1\n")
    }

    @Test func pipelinedTCPQueriesAllAnswered() throws {
        let server = try TestDNSServer()
        let client = try RawClient(port: server.port)
        var bytes: [UInt8] = []
        for (id, name) in ["ns1.example.test.", "mail.example.test.", "nope.example.test."].enumerated() {
            var query = DNSMessage()
            query.id = UInt16(id + 1)
            query.questions = [.init(name: DNSName(name)!, type: .a)]
            let encoded = query.encode()
            bytes += [UInt8(encoded.count >> 8), UInt8(encoded.count & 0xFF)] + encoded
        }
        client.send(bytes)
        var received = client.read(atLeast: 3 * 40)
        var ids: Set<UInt16> = []
        while received.count >= 2 {
            let length = Int(received[0]) << 8 | Int(received[1])
            guard received.count >= 2 + length, let reply = try? DNSMessage.decode(Array(received[2..<(2 + length)])) else { break }
            ids.insert(reply.id)
            received.removeFirst(2 + length)
        }
        #expect(ids == [1, 2, 3])
    }
}
