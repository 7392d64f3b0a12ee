import DNSService
import Foundation
import ServerCore
import Testing

/// Zone transfers against dig: who may, TSIG both ways (dig -y checks every message's MAC),
/// IXFR's single SOA, UDP refused, and a zone larger than one message.
@Suite(.enabled(if: Tools.find("dig") != nil, "dig is not installed (dnsutils): skipping the transfer tests"))
struct DNSTransferDigTests {
    static let secret = "c2VjcmV0IGZvciB0aGUgdHJhbnNmZXIgdGVzdHMsIDMyIGI="
    static let key = TSIGKey(name: DNSName("xfr.test.")!, algorithm: .sha256, secret: Array("secret for the transfer tests, 32 b".utf8))

    static func loopback(_ cidr: String) -> [IPNetwork] { [IPNetwork(cidr)!] }

    /// The records of an AXFR as dig prints them (`+noall +answer`), one a line.
    static func records(_ output: String) -> [String] {
        output.split(separator: "\n").map(String.init).filter { !$0.hasPrefix(";") && !$0.isEmpty }
    }

    @Test func axfrFromAnAllowedAddressHasEveryRecordBetweenTwoSOAs() throws {
        let server = try TestDNSServer(transfers: TransferPolicy(allowed: DNSTransferDigTests.loopback("127.0.0.1/32")))
        let lines = DNSTransferDigTests.records(try server.dig(["+noall", "+answer", "example.test", "AXFR"]).text)
        #expect(lines.count > 20)
        #expect(lines.first?.contains("\tSOA\t") == true)
        #expect(lines.last == lines.first)
        #expect(lines.filter { $0.contains("\tSOA\t") }.count == 2)
        // Glue below the delegation travels too.
        #expect(lines.contains { $0.hasPrefix("ns.sub.example.test.") && $0.contains("192.0.2.53") })
        #expect(lines.contains { $0.hasPrefix("alpha.hosts.example.test.") })
    }

    @Test func otherAddressesAndUnsignedRequestsAreRefused() throws {
        let server = try TestDNSServer(transfers: TransferPolicy(allowed: DNSTransferDigTests.loopback("127.0.0.1/32")))
        let other = try server.dig(["-b", "127.0.0.2", "example.test", "AXFR"]).text
        #expect(other.contains("Transfer failed"))
        #expect(!other.contains("\tSOA\t"))
        let nobody = try TestDNSServer()
        #expect(try nobody.dig(["example.test", "AXFR"]).text.contains("Transfer failed"))
        #expect(try server.dig(["example.com", "AXFR"]).text.contains("Transfer failed"))
    }

    @Test func overUDPAnAXFRIsNotImplementedAndAnIXFRGetsTheSOA() throws {
        let server = try TestDNSServer(transfers: TransferPolicy(allowed: DNSTransferDigTests.loopback("127.0.0.0/8")))
        let axfr = try #require(udpExchange(dnsQuery("example.test.", .axfr), port: server.port))
        #expect(try DNSMessage.decode(axfr).rcode == RCode.notImp.rawValue)
        let ixfr = try server.dig(["+notcp", "+noall", "+answer", "example.test", "IXFR=1"]).text
        #expect(DNSTransferDigTests.records(ixfr).count == 1)
        #expect(ixfr.contains("\tSOA\t"))
    }

    @Test func ixfrFromTheCurrentSerialIsTheSingleSOAAndFromAnOlderOneTheWholeZone() throws {
        let server = try TestDNSServer(transfers: TransferPolicy(allowed: DNSTransferDigTests.loopback("127.0.0.0/8")))
        let current = try server.dig(["+noall", "+answer", "example.test", "IXFR=2026112501"]).text
        #expect(DNSTransferDigTests.records(current).count == 1)
        let older = DNSTransferDigTests.records(try server.dig(["+noall", "+answer", "example.test", "IXFR=2026112500"]).text)
        #expect(older.count > 20)
        #expect(older.first == older.last)
    }

    @Test func tsigSignedTransfersVerifyAndUnsignedOrWrongKeysAreRefused() throws {
        let policy = TransferPolicy(allowed: DNSTransferDigTests.loopback("127.0.0.0/8"),
                                    keys: [DNSTransferDigTests.key.name: DNSTransferDigTests.key], requiredKey: DNSTransferDigTests.key.name)
        let server = try TestDNSServer(transfers: policy)
        let signed = try server.dig(["-y", "hmac-sha256:xfr.test:\(DNSTransferDigTests.secret)", "+noall", "+answer", "example.test", "AXFR"])
        let lines = DNSTransferDigTests.records(signed.text)
        #expect(lines.filter { $0.contains("\tSOA\t") }.count == 2, "\(signed.text) \(signed.stderr)")
        #expect(!signed.text.contains("failure"))
        #expect(try server.dig(["example.test", "AXFR"]).text.contains("Transfer failed"))
        let wrong = try server.dig(["-y", "hmac-sha256:xfr.test:d3Jvbmcgc2VjcmV0", "example.test", "AXFR"])
        #expect(!wrong.text.contains("\tSOA\t"))
        #expect((wrong.text + wrong.stderr).contains("BADSIG"), "\(wrong.text) \(wrong.stderr)")
        let unknown = try server.dig(["-y", "hmac-sha256:other.test:\(DNSTransferDigTests.secret)", "example.test", "AXFR"])
        #expect(!unknown.text.contains("\tSOA\t"))
        #expect((unknown.text + unknown.stderr).contains("BADKEY"), "\(unknown.text) \(unknown.stderr)")
    }

    @Test func aZoneLargerThanOneMessageGoesInSeveral() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("xfr-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let hosts = (0..<3000).map { "host\($0) A 198.51.100.\($0 % 250 + 1)\nhost\($0) TXT \"text of host \($0)\"" }
        try ("$ORIGIN big.test.\n$TTL 300\n@ SOA ns hostmaster 7 3600 600 86400 300\n@ NS ns\nns A 192.0.2.1\n" + hosts.joined(separator: "\n") + "\n")
            .write(toFile: folder + "/big.test.zone", atomically: true, encoding: .utf8)
        let server = try TestDNSServer(zones: folder, transfers: TransferPolicy(allowed: DNSTransferDigTests.loopback("127.0.0.0/8"),
                                                                                keys: [DNSTransferDigTests.key.name: DNSTransferDigTests.key]))
        // Signed: dig checks every message's MAC, each chained to the one before.
        let output = try server.dig(["-y", "hmac-sha256:xfr.test:\(DNSTransferDigTests.secret)", "+noall", "+answer", "+stats",
                                     "big.test", "AXFR"]).text
        #expect(!output.contains("failure") && !output.contains("Transfer failed"))
        // The records, and a TSIG after each message (dig prints them in the answer).
        #expect(DNSTransferDigTests.records(output).filter { !$0.contains("\tTSIG\t") }.count == 6004)
        let messages = output.split(separator: "\n").first { $0.contains("XFR size") }
        // ";; XFR size: 6004 records (messages 10, bytes 163167)"
        let count = messages.flatMap { $0.split(separator: "(").last?.split(separator: " ").dropFirst().first }.flatMap { Int($0.dropLast()) }
        #expect((count ?? 0) > 5, "\(messages ?? "no XFR size line")")
    }
}
