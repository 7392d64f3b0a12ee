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
        // The cached TTL counts down with the clock: ask until a second has passed.
        let deadline = Date().addingTimeInterval(5)
        var cached = try server.dig(["+noall", "+answer", "host.upstream.test"]).text
        while cached.contains("\t300\t") && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            cached = try server.dig(["+noall", "+answer", "host.upstream.test"]).text
        }
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

    @Test func aRepeatedUDPQueryIsAnsweredFromTheKeptResponseWithItsOwnID() throws {
        let server = try TestDNSServer()
        let first = try #require(udpExchange(dnsQuery("ns1.example.test.", id: 0x1111), port: server.port))
        let again = try #require(udpExchange(dnsQuery("ns1.example.test.", id: 0xABCD), port: server.port))
        #expect(first.prefix(2) == [0x11, 0x11] && again.prefix(2) == [0xAB, 0xCD])
        #expect(first.dropFirst(2) == again.dropFirst(2))
    }

    @Test func pipelinedTCPQueriesAllAnswered() throws {
        let server = try TestDNSServer()
        let client = try RawClient(port: server.port)
        let names = ["ns1.example.test.", "mail.example.test.", "nope.example.test."]
        client.send(Array(names.enumerated().map { tcpFramed(dnsQuery($0.element, id: UInt16($0.offset + 1))) }.joined()))
        #expect(Set(readTCPMessages(client, count: 3).map(\.id)) == [1, 2, 3])
    }
}

/// DNS over TCP and UDP on raw sockets: what no real client sends.
@Suite struct DNSRawSocketTests {
    @Test func theHostile23KBQueryGetsASmallFormErrAndTheServerGoesOn() throws {
        // Issue 11: a FORMERR echoing every question passed 65535 octets; over TCP the
        // length prefix trapped (killing every service), over UDP no reply came.
        let server = try TestDNSServer()
        let hostile = HostileQueries.questionsIntoLabels()
        let client = try RawClient(port: server.port)
        client.send(tcpFramed(hostile) + tcpFramed(dnsQuery("ns1.example.test.", id: 2)))
        let frames = readTCPFrames(client, count: 2)
        try #require(frames.count == 2)
        #expect(frames[0].count <= 512, "\(frames[0].count) octets")
        let formerr = try DNSMessage.decode(frames[0])
        #expect(formerr.id == 0xBEEF && formerr.rcode == RCode.formErr.rawValue && formerr.questions.count == 1)
        let next = try DNSMessage.decode(frames[1])
        #expect(next.id == 2 && next.answers.first?.data == .a([192, 0, 2, 1]), "the same connection goes on")

        let udp = try #require(udpExchange(hostile, port: server.port), "a reply over UDP too")
        #expect(udp.count <= 512)
        #expect(try DNSMessage.decode(udp).rcode == RCode.formErr.rawValue)
        let after = try #require(udpExchange(dnsQuery("ns1.example.test."), port: server.port))
        #expect(try DNSMessage.decode(after).answers.first?.data == .a([192, 0, 2, 1]))
    }

    @Test func aClientOutsideAllowRecursionIsRefusedEvenWithAnUpstream() throws {
        let upstreamZones = try TemporaryFolder("zones")
        try upstreamZones.write("upstream.test.zone", "$TTL 300\n@ SOA ns hm 1 1 1 1 60\nhost A 198.51.100.1\n")
        let upstream = try TestDNSServer(zones: upstreamZones.path)
        // 127.0.0.1 may recurse through `open`, not through `closed`; both have the upstream.
        let open = try TestDNSServer(upstreams: [upstream.address])
        let closed = try TestDNSServer(upstreams: [upstream.address], allowRecursion: [IPNetwork("192.0.2.0/24")!])
        let query = dnsQuery("host.upstream.test.")
        let answered = try DNSMessage.decode(try #require(udpExchange(query, port: open.port)))
        #expect(answered.rcode == RCode.noError.rawValue && answered.answers.first?.data == .a([198, 51, 100, 1]))
        let refused = try DNSMessage.decode(try #require(udpExchange(query, port: closed.port)))
        #expect(refused.rcode == RCode.refused.rawValue && refused.answers.isEmpty && !refused.recursionAvailable)
        let client = try RawClient(port: closed.port)
        client.send(tcpFramed(query))
        #expect(readTCPMessages(client, count: 1).first?.rcode == RCode.refused.rawValue, "over TCP too")
        #expect(try DNSMessage.decode(try #require(udpExchange(dnsQuery("ns1.example.test."), port: closed.port))).answers.count == 1,
                "our own zones are still answered")
    }

    @Test func anIdleTCPClientIsClosedAfterTheIdleTimeout() throws {
        let server = try TestDNSServer(tcpIdleTimeout: 0.3)
        for asksFirst in [false, true] {
            let client = try RawClient(port: server.port, timeout: 10)
            var started = Date()
            if asksFirst {
                client.send(tcpFramed(dnsQuery("ns1.example.test.")))
                #expect(readTCPMessages(client, count: 1).count == 1)
                started = Date()
            }
            var byte: UInt8 = 0
            let n = recv(client.fd, &byte, 1, 0)
            let error = errno
            let waited = Date().timeIntervalSince(started)
            // A receive timeout (EAGAIN after 10 s) would mean the server never closed.
            #expect(n == 0 || (n < 0 && error == ECONNRESET), "closed by the server (recv \(n), errno \(error))")
            #expect(waited >= 0.29 && waited < 5, "after \(waited) s")
        }
    }

    @Test func aClientThatStopsReadingGetsEveryAnswerOnceItReads() throws {
        // 6000 answers of ~1.7 KB (10 MB) are far past the output bound and the socket
        // buffers: the server stops taking queries, then must go on as the client reads.
        // (Without the resumption the client would time out with a part of them.)
        let zones = try TemporaryFolder("zones")
        let big = (0..<8).map { "big TXT \"\(String(repeating: "x", count: 200))-\($0)\"" }.joined(separator: "\n")
        try zones.write("example.test.zone", "$TTL 60\n@ SOA ns hm 1 1 1 1 30\n\(big)\n")
        let server = try TestDNSServer(zones: zones.path)
        let client = try RawClient(port: server.port)
        // A small receive buffer stops the kernel from absorbing what the server sends.
        var small: Int32 = 256 * 1024
        setsockopt(client.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        let count = 6000
        let stream = Array((1...count).map { tcpFramed(dnsQuery("big.example.test.", .txt, id: UInt16($0))) }.joined())
        let sent = DispatchSemaphore(value: 0)
        let fd = client.fd
        DispatchQueue.global().async {
            sendAll(stream, on: fd)
            sent.signal()
        }
        // Read nothing until what waits for the client stops growing: the server has stopped.
        var peek = [UInt8](repeating: 0, count: 1024 * 1024)
        var waiting = 0
        var steadySince = Date()
        let deadline = Date().addingTimeInterval(30)
        while Date().timeIntervalSince(steadySince) < 0.5 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            let now = peek.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_PEEK | MSG_DONTWAIT)) }
            if now != waiting || now <= 0 { steadySince = Date() }
            waiting = now
        }
        #expect(waiting > 0, "answers came, then stopped coming")
        let sentAtOnce = sent.wait(timeout: .now()) == .success
        let replies = readTCPMessages(client, count: count)
        #expect(replies.count == count)
        #expect(Set(replies.map(\.id)).count == count && replies.allSatisfy { $0.answers.count == 8 })
        #expect(sentAtOnce || sent.wait(timeout: .now() + 10) == .success)
    }
}
