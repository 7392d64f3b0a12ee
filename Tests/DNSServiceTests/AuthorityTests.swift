import Testing
@testable import DNSService

/// The answer logic, with expected records written in zone-file syntax (as CoreDNS's tests do).
@Suite struct AuthorityTests {
    static let zoneText = """
    $TTL 3600
    @        SOA   ns1 hostmaster 1 7200 900 1209600 300
             NS    ns1
             MX    10 mail
    ns1      A     192.0.2.1
    mail     A     192.0.2.25
             AAAA  2001:db8::25
    www      CNAME @
    @        A     192.0.2.10
    ftp      CNAME www
    out      CNAME elsewhere.invalid.
    loop1    CNAME loop2
    loop2    CNAME loop1
    *.wild   A     192.0.2.80
    a.b      A     192.0.2.90
    sub      NS    ns.sub
    ns.sub   A     192.0.2.53
    _sip._tcp SRV  1 1 5060 mail
    other    CNAME host.other.test.
    """

    static let otherText = """
    $TTL 60
    @    SOA ns1.example.test. hostmaster.example.test. 1 1 1 1 30
    host A   198.51.100.7
    """

    let authority: Authority = {
        let example = DNSName("example.test.")!, other = DNSName("other.test.")!
        let zones = [
            try? Zone(origin: example, records: ZoneFileParser.parse(AuthorityTests.zoneText, origin: example)),
            try? Zone(origin: other, records: ZoneFileParser.parse(AuthorityTests.otherText, origin: other)),
        ].compactMap { $0 }
        return Authority(zones: zones)
    }()

    func ask(_ name: String, _ type: RRType) -> AuthoritativeAnswer? {
        authority.answer(.init(name: DNSName(name)!, type: type))
    }

    func records(_ text: String, origin: String = "example.test.") -> [ResourceRecord] {
        (try? ZoneFileParser.parse("$TTL 3600\n" + text, origin: DNSName(origin)!)) ?? []
    }

    @Test func exactAnswer() {
        let answer = ask("mail.example.test.", .aaaa)
        #expect(answer?.rcode == .noError)
        #expect(answer?.authoritative == true)
        #expect(answer?.answer == records("mail AAAA 2001:db8::25"))
        #expect(answer?.authority == [])
    }

    @Test func notOurs() {
        #expect(ask("example.com.", .a) == nil)
        #expect(ask("test.", .a) == nil)
    }

    @Test func cnameChainFollowedInsideAndAcrossZones() {
        #expect(ask("ftp.example.test.", .a)?.answer == records("ftp CNAME www\nwww CNAME @\n@ A 192.0.2.10"))
        let across = ask("other.example.test.", .a)
        #expect(across?.answer.count == 2)
        #expect(across?.answer.last?.data == .a([198, 51, 100, 7]))
        #expect(ask("www.example.test.", .cname)?.answer == records("www CNAME @"))
    }

    @Test func cnameOutOfOurZonesStopsAndLoopsEnd() {
        #expect(ask("out.example.test.", .a)?.answer == records("out CNAME elsewhere.invalid."))
        let loop = ask("loop1.example.test.", .a)
        #expect(loop?.rcode == .noError)
        #expect(loop?.answer.count == 2)
    }

    @Test func nxdomainAndNodataCarryTheSOAWithNegativeTTL() {
        let nx = ask("nope.example.test.", .a)
        #expect(nx?.rcode == .nxDomain)
        #expect(nx?.answer == [])
        #expect(nx?.authority.first?.type == .soa)
        #expect(nx?.authority.first?.ttl == 300)
        let nodata = ask("mail.example.test.", .txt)
        #expect(nodata?.rcode == .noError)
        #expect(nodata?.answer == [])
        #expect(nodata?.authority.first?.type == .soa)
    }

    @Test func emptyNonTerminalIsNodata() {
        let ent = ask("b.example.test.", .a)
        #expect(ent?.rcode == .noError)
        #expect(ent?.authority.first?.type == .soa)
    }

    @Test func wildcardSynthesisesWithTheQueryName() {
        #expect(ask("anything.wild.example.test.", .a)?.answer == records("anything.wild A 192.0.2.80"))
        #expect(ask("deep.er.wild.example.test.", .a)?.answer == records("deep.er.wild A 192.0.2.80"))
        let nodata = ask("anything.wild.example.test.", .mx)
        #expect(nodata?.rcode == .noError && nodata?.answer == [] && nodata?.authority.first?.type == .soa)
        #expect(ask("wild.example.test.", .a)?.rcode == .noError)
    }

    @Test func delegationIsAReferralWithGlue() {
        let referral = ask("host.sub.example.test.", .a)
        #expect(referral?.authoritative == false)
        #expect(referral?.rcode == .noError)
        #expect(referral?.answer == [])
        #expect(referral?.authority == records("sub NS ns.sub"))
        #expect(referral?.additional == records("ns.sub A 192.0.2.53"))
        #expect(ask("sub.example.test.", .ns)?.authoritative == false)
    }

    /// DS lives on the parent side of a cut (RFC 4035 3.1.4.1): the parent answers it itself,
    /// authoritatively, as NSD does, never with a referral.
    @Test func dsAtACutIsAnsweredByTheParent() {
        let ds = ask("sub.example.test.", .ds)
        #expect(ds?.authoritative == true)
        #expect(ds?.rcode == .noError)
        #expect(ds?.answer == [])
        #expect(ds?.authority.map(\.name) == [DNSName("example.test.")!])
        #expect(ds?.authority.first?.type == .soa)
        #expect(ask("host.sub.example.test.", .ds)?.authoritative == false, "below the cut: still a referral")
        #expect(ask("example.test.", .ds)?.authority.first?.type == .soa, "no parent held: the zone itself says no data")
    }

    @Test func dsAtAChildApexWeAlsoHoldComesFromTheParentsData() throws {
        let example = DNSName("example.test.")!, sub = DNSName("sub.example.test.")!
        let parent = try Zone(origin: example, records: ZoneFileParser.parse(
            AuthorityTests.zoneText + "\nsub DS \\# 4 01020304\n", origin: example))
        let child = try Zone(origin: sub, records: ZoneFileParser.parse(
            "$TTL 60\n@ SOA ns hm 1 1 1 1 30\n@ NS ns\nns A 192.0.2.53\n", origin: sub))
        let both = Authority(zones: [child, parent])
        let ds = both.answer(.init(name: sub, type: .ds))
        #expect(ds?.authoritative == true)
        #expect(ds?.answer.map(\.type) == [.ds])
        #expect(ds?.answer.first?.data == .unknown([1, 2, 3, 4]))
        #expect(both.answer(.init(name: sub, type: .soa))?.answer.first?.name == sub, "other types: the child's apex")
    }

    @Test func apexNSAndAdditionalAddresses() {
        let ns = ask("example.test.", .ns)
        #expect(ns?.authoritative == true)
        #expect(ns?.answer == records("@ NS ns1"))
        #expect(ns?.additional == records("ns1 A 192.0.2.1"))
        let mx = ask("example.test.", .mx)
        #expect(mx?.additional == records("mail A 192.0.2.25\nmail AAAA 2001:db8::25"))
        #expect(ask("_sip._tcp.example.test.", .srv)?.additional.count == 2)
        #expect(ask("example.test.", .soa)?.answer.first?.type == .soa)
    }

    @Test func caseOfTheQuestionIsKept() {
        let answer = ask("MaIl.Example.TEST.", .a)
        #expect(answer?.answer.first?.name.description == "MaIl.Example.TEST.")
    }

    @Test func anyReturnsEveryRRset() {
        let any = ask("mail.example.test.", .any)
        #expect(Set(any?.answer.map(\.type) ?? []) == [.a, .aaaa])
    }
}
