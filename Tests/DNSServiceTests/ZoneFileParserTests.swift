import Foundation
import Testing
@testable import DNSService

@Suite struct ZoneFileParserTests {
    let origin = DNSName("example.test.")!

    func parse(_ text: String, include: @escaping (String) -> [UInt8]? = { _ in nil }) throws -> [ResourceRecord] {
        try ZoneFileParser.parse(text, origin: origin, include: include)
    }

    func failure(_ text: String) -> String? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func soaAcrossLinesWithCommentsAndUnits() throws {
        let records = try parse("""
        $TTL 1h
        @ IN SOA ns1 hostmaster.example.test. ( 1 ; serial
              2h 15m   ; refresh, retry
              2w 5m )  ; expire, minimum
        """)
        #expect(records.count == 1)
        guard case .soa(let soa) = records[0].data else { Issue.record("not an SOA"); return }
        #expect(records[0].name == origin)
        #expect(records[0].ttl == 3600)
        #expect(soa.mname == DNSName("ns1.example.test."))
        #expect([soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] == [1, 7200, 900, 1_209_600, 300])
    }

    @Test func omittedOwnerTTLAndClassInEitherOrder() throws {
        let records = try parse("""
        $TTL 300
        host 60 IN A 192.0.2.1
             IN 120 AAAA 2001:db8::1
             MX 10 mail
        other A 192.0.2.2
        """)
        #expect(records.map(\.name) == [DNSName("host.example.test.")!, DNSName("host.example.test.")!, DNSName("host.example.test.")!, DNSName("other.example.test.")!])
        #expect(records.map(\.ttl) == [60, 120, 300, 300])
        #expect(records[2].data == .mx(preference: 10, exchange: DNSName("mail.example.test.")!))
    }

    @Test func ttlFallsBackToThePreviousRecordWithoutTTLDirective() throws {
        let records = try parse("a 600 A 192.0.2.1\nb A 192.0.2.2\n")
        #expect(records.map(\.ttl) == [600, 600])
    }

    @Test func originDirectiveAndAbsoluteNames() throws {
        let records = try parse("$TTL 1\n$ORIGIN sub.example.test.\nwww A 192.0.2.1\nx.example.test. A 192.0.2.2\n@ A 192.0.2.3\n")
        #expect(records.map(\.name.description) == ["www.sub.example.test.", "x.example.test.", "sub.example.test."])
    }

    @Test func quotedStringsEscapesAndSeveralStrings() throws {
        let records = try parse(#"$TTL 1"# + "\n" + #"t TXT "a \"b\" c" plain "semi;colon" "\065\066" """#)
        #expect(records.first?.data == .txt([Array("a \"b\" c".utf8), Array("plain".utf8), Array("semi;colon".utf8), Array("AB".utf8), []]))
    }

    @Test func srvCaaPtrAndUnknownTypes() throws {
        let records = try parse("""
        $TTL 1
        _sip._tcp SRV 10 60 5060 sip
        @ CAA 0 issue "ca.example"
        1 PTR host.example.test.
        x TYPE65534 \\# 3 010203
        y A \\# 4 C0000201
        """)
        #expect(records[0].data == .srv(priority: 10, weight: 60, port: 5060, target: DNSName("sip.example.test.")!))
        #expect(records[1].data == .caa(flags: 0, tag: Array("issue".utf8), value: Array("ca.example".utf8)))
        #expect(records[2].data == .ptr(DNSName("host.example.test.")!))
        #expect(records[3].type == RRType(rawValue: 65534) && records[3].data == .unknown([1, 2, 3]))
        #expect(records[4].data == .a([192, 0, 2, 1]))
    }

    @Test func includeWithItsOwnOrigin() throws {
        let records = try parse("$TTL 1\n$INCLUDE hosts.inc hosts.example.test.\nafter A 192.0.2.9\n") { name in
            name == "hosts.inc" ? Array("alpha A 192.0.2.1\n".utf8) : nil
        }
        #expect(records.map(\.name.description) == ["alpha.hosts.example.test.", "after.example.test."])
    }

    @Test(arguments: [
        ("$TTL 1\nwww A 192.0.2\n", "zone:2: expected an IPv4 address, got '192.0.2'"),
        ("$TTL 1\nwww AAAA 192.0.2.1\n", "zone:2: expected an IPv6 address, got '192.0.2.1'"),
        ("$TTL 1\n\n\nwww MX mail\n", "zone:4: expected a preference (0 to 65535), got 'mail'"),
        ("www A 192.0.2.1\n", "zone:1: expected a TTL (no $TTL given before this record)"),
        ("$TTL 1\nwww BOGUS data\n", "zone:2: expected a TTL, class or record type, got 'BOGUS'"),
        ("$TTL 1\nwww CH A 192.0.2.1\n", "zone:2: class CH is not served (expected IN)"),
        ("$TTL 1\n  A 192.0.2.1\n", "zone:2: expected an owner name (there is no previous record to repeat)"),
        ("$TTL 1\nwww A 192.0.2.1 extra\n", "zone:2: unexpected 'extra' after the A data"),
        ("$TTL 1\nt TXT \"unterminated\n", "zone:2: expected a closing '\"'"),
        ("$TTL 1\nt SOA ( a b 1 2 3 4\n", "zone:2: expected ')' to close this '(' before the end of the file"),
        ("$TTL 1\n)\n", "zone:2: ')' without '('"),
        ("$TTL nope\n", "zone:1: expected '$TTL ttl' (e.g. 3600 or 1h)"),
        ("$GENERATE 1-2 a A 1.2.3.4\n", "zone:1: unknown directive '$GENERATE' (expected $ORIGIN, $TTL or $INCLUDE)"),
        ("$TTL 1\nx A \\# 3 010203\n", "zone:2: the \\# data is not valid A data"),
        ("$TTL 1\nx TYPE9 1.2.3.4\n", "zone:2: expected RFC 3597 '\\#' data for TYPE9"),
        ("$INCLUDE missing.inc\n", "zone:1: cannot read included file 'missing.inc'"),
        // Numbers: digits only, each with its maximum (issue 11: `\#` with Int.max overflowed).
        ("$TTL 1\nx TYPE65534 \\# 9223372036854775807 00\n", "zone:2: expected an RDATA length (0 to 65535), got '9223372036854775807'"),
        ("$TTL 1\nx TYPE65534 \\# 99999999999999999999 00\n", "zone:2: expected an RDATA length (0 to 65535), got '99999999999999999999'"),
        ("$TTL 1\nx TYPE65534 \\# 65536 00\n", "zone:2: expected an RDATA length (0 to 65535), got '65536'"),
        ("$TTL 1\nx TYPE65534 \\# +1 00\n", "zone:2: expected an RDATA length (0 to 65535), got '+1'"),
        ("$TTL +5\n", "zone:1: expected '$TTL ttl' (e.g. 3600 or 1h)"),
        ("$TTL 2147483648\n", "zone:1: expected '$TTL ttl' (e.g. 3600 or 1h)"),
        ("$TTL 1\nwww 4294967296 A 192.0.2.1\n", "zone:2: expected a TTL, class or record type, got '4294967296'"),
        ("$TTL 1\nwww +60 A 192.0.2.1\n", "zone:2: expected a TTL, class or record type, got '+60'"),
        ("$TTL 1\nwww MX +10 mail\n", "zone:2: expected a preference (0 to 65535), got '+10'"),
        ("$TTL 1\nwww MX 65536 mail\n", "zone:2: expected a preference (0 to 65535), got '65536'"),
        ("$TTL 1\nwww SRV -1 0 5060 sip\n", "zone:2: expected a priority (0 to 65535), got '-1'"),
        ("$TTL 1\nwww SRV 1 0 65536 sip\n", "zone:2: expected a port (0 to 65535), got '65536'"),
        ("$TTL 1\n@ CAA 256 issue \"ca.test\"\n", "zone:2: expected CAA flags (0 to 255), got '256'"),
        ("$TTL 1\n@ SOA ns hm 4294967296 1 1 1 1\n", "zone:2: expected a serial number (0 to 4294967295), got '4294967296'"),
        ("$TTL 1\n@ SOA ns hm 1 1 1 1 -1\n", "zone:2: expected a minimum TTL, got '-1'"),
        ("$TTL 1\nx TYPE+5 \\# 0\n", "zone:2: expected a TTL, class or record type, got 'TYPE+5'"),
        ("$TTL 1\nx TYPE65536 \\# 0\n", "zone:2: expected a TTL, class or record type, got 'TYPE65536'"),
        // RDATA that cannot be encoded is refused when the zone loads, not by the first query.
        ("$TTL 1\nt TXT \"\(String(repeating: "x", count: 256))\"\n",
         "zone:2: expected a text string of at most 255 octets (split longer text into several), got 256"),
        ("$TTL 1\nt TXT \(Array(repeating: String(repeating: "x", count: 255), count: 300).joined(separator: " "))\n",
         "zone:2: expected at most 65535 octets of TXT data, got 76800"),
        ("$TTL 1\n@ CAA 0 issue \"\(String(repeating: "x", count: 65535))\"\n", "zone:2: expected at most 65535 octets of CAA data, got 65542"),
    ])
    func errorsSayFileLineAndWhatWasExpected(_ text: String, _ message: String) {
        #expect(failure(text) == message)
    }

    @Test func ttlUnits() {
        #expect(TTLValue.parse("3600") == 3600)
        #expect(TTLValue.parse("1h30m") == 5400)
        #expect(TTLValue.parse("2d") == 172_800)
        #expect(TTLValue.parse("1W") == 604_800)
        #expect(TTLValue.parse("1x") == nil)
        #expect(TTLValue.parse("h") == nil)
        #expect(TTLValue.parse("99999999999w") == nil)
        #expect(TTLValue.parse("2147483647") == 2_147_483_647)
        #expect(TTLValue.parse("2147483648") == nil)
        #expect(TTLValue.parse("4294967296") == nil)
        #expect(TTLValue.parse("3551w") == nil)
        #expect(TTLValue.parse("+5") == nil)
        #expect(TTLValue.parse("1h+5") == nil)
        #expect(TTLValue.parse("") == nil)
    }

    @Test func shippedZonesLoad() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../conf/zones").standardized.path
        let store = try ZoneStore(folder: folder)
        #expect(Set(store.authority.zones.map(\.origin.description)) == ["example.test.", "2.0.192.in-addr.arpa."])
    }
}

@Suite struct ZoneFileTests {
    @Test func zoneChecks() {
        let origin = DNSName("example.test.")!
        func build(_ text: String) -> String? {
            do {
                _ = try Zone(origin: origin, records: try ZoneFileParser.parse(text, origin: origin))
                return nil
            } catch let error as Zone.Invalid {
                return error.message
            } catch {
                return "\(error)"
            }
        }
        let soa = "$TTL 1\n@ SOA ns hm 1 1 1 1 1\n"
        #expect(build("$TTL 1\nwww A 192.0.2.1\n") == "no SOA record at the zone apex example.test.")
        #expect(build(soa + "www CNAME x\nwww A 192.0.2.1\n") == "www.example.test. has a CNAME and other data")
        #expect(build(soa + "other.test. A 192.0.2.1\n") == "other.test. is outside the zone example.test.")
        #expect(build(soa + "@ SOA ns hm 2 1 1 1 1\n") == "more than one SOA record")
        #expect(build(soa + "www A 192.0.2.1\n") == nil)
    }

    final class Folder {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("zones-\(UUID().uuidString)").path
        init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        func write(_ name: String, _ text: String) throws { try text.write(toFile: path + "/" + name, atomically: true, encoding: .utf8) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    func load(_ name: String, in folder: Folder) throws -> Zone {
        try ZoneFileParser.load(name, in: ZoneFolder(folder.path)).zone
    }

    @Test func loadUsesTheFileNameAsOriginAndReportsThePath() throws {
        let folder = try Folder()
        try folder.write("2.0.192.in-addr.arpa.zone", "$TTL 60\n@ SOA ns hm 1 1 1 1 1\n1 PTR host.example.\n")
        #expect(try load("2.0.192.in-addr.arpa.zone", in: folder).origin == DNSName("2.0.192.in-addr.arpa."))
        try folder.write("escape.test.zone", "$TTL 60\n@ SOA ns hm 1 1 1 1 1\n$INCLUDE ../../etc/passwd\n")
        #expect(throws: ZoneFileParser.Failure(file: folder.path + "/escape.test.zone", line: 3, message: "$INCLUDE '../../etc/passwd' is outside the zones folder")) {
            try load("escape.test.zone", in: folder)
        }
        try folder.write("absolute.test.zone", "$TTL 60\n@ SOA ns hm 1 1 1 1 1\n$INCLUDE /etc/passwd\n")
        #expect(throws: ZoneFileParser.Failure(file: folder.path + "/absolute.test.zone", line: 3, message: "$INCLUDE '/etc/passwd' is outside the zones folder")) {
            try load("absolute.test.zone", in: folder)
        }
        try folder.write("loop.test.zone", "$TTL 60\n@ SOA ns hm 1 1 1 1 1\n$INCLUDE self.inc\n")
        try folder.write("self.inc", "$INCLUDE self.inc\n")
        #expect(throws: ZoneFileParser.Failure.self) { try load("loop.test.zone", in: folder) }
        try folder.write("missing.test.zone", "$TTL 60\n@ SOA ns hm 1 1 1 1 1\n$INCLUDE nothing.inc\n")
        #expect(throws: ZoneFileParser.Failure(file: folder.path + "/missing.test.zone", line: 3,
                                               message: "cannot read included file 'nothing.inc': No such file or directory")) {
            try load("missing.test.zone", in: folder)
        }
    }

    /// Every zone error names its file and line, an included file's own where the record is.
    @Test func zoneErrorsCarryTheRecordsFileAndLine() throws {
        let folder = try Folder()
        try folder.write("cname.test.zone", "$TTL 60\n@ SOA ns hm 1 1 1 1 1\nwww CNAME @\n\nwww A 192.0.2.1\n")
        #expect(throws: ZoneFileParser.Failure(file: folder.path + "/cname.test.zone", line: 5, message: "www.cname.test. has a CNAME and other data")) {
            try load("cname.test.zone", in: folder)
        }
        try folder.write("outside.test.zone", "$TTL 60\n@ SOA ns hm 1 1 1 1 1\n$INCLUDE hosts.inc\n")
        try folder.write("hosts.inc", "ok A 192.0.2.1\nelsewhere.test. A 192.0.2.2\n")
        #expect(throws: ZoneFileParser.Failure(file: folder.path + "/hosts.inc", line: 2, message: "elsewhere.test. is outside the zone outside.test.")) {
            try load("outside.test.zone", in: folder)
        }
        try folder.write("twosoa.test.zone", "$TTL 60\n@ SOA ns hm 1 1 1 1 1\n@ SOA ns hm 2 1 1 1 1\n")
        #expect(throws: ZoneFileParser.Failure(file: folder.path + "/twosoa.test.zone", line: 3, message: "more than one SOA record")) {
            try load("twosoa.test.zone", in: folder)
        }
    }

    /// A misnamed zone file would be silently not served: it is named instead.
    @Test func filesThatAreNeitherZonesNorIncludedAreNamed() throws {
        let folder = try Folder()
        try folder.write("example.test.zone", "$TTL 60\n@ SOA ns hm 1 1 1 1 1\n$INCLUDE hosts.inc\n")
        try folder.write("hosts.inc", "www A 192.0.2.1\n")
        try folder.write("other.test.zon", "$TTL 60\n")
        try folder.write("README", "notes\n")
        try folder.write(".example.test.zone.swp", "")
        try FileManager.default.createDirectory(atPath: folder.path + "/old", withIntermediateDirectories: true)
        let store = try ZoneStore(folder: folder.path)
        #expect(store.ignoredFiles == ["README", "other.test.zon"])
    }

    /// Reloads read through the descriptor opened at start, not the path: they work when the
    /// path no longer leads there (here the folder moved; in a server, a folder above it
    /// closed to the run user, tested as root in PrivilegeTests).
    @Test func reloadReadsThroughTheFolderOpenedAtStart() throws {
        let folder = try Folder()
        try folder.write("example.test.zone", "$TTL 60\n@ SOA ns hm 1 1 1 1 1\n$INCLUDE hosts.inc\n")
        try folder.write("hosts.inc", "www A 192.0.2.1\n")
        let store = try ZoneStore(folder: folder.path)
        let moved = folder.path + "-moved"
        try FileManager.default.moveItem(atPath: folder.path, toPath: moved)
        defer { try? FileManager.default.moveItem(atPath: moved, toPath: folder.path) }
        try "www A 192.0.2.2\n".write(toFile: moved + "/hosts.inc", atomically: true, encoding: .utf8)
        #expect(store.reload() == [])
        let answer = store.authority.answer(.init(name: DNSName("www.example.test.")!, type: .a))
        #expect(answer?.answer.map(\.data) == [.a([192, 0, 2, 2])])
    }
}
