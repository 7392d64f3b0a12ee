import DNSService
import Logging
import ServerCore

/// The whole DNS path on a sample zone: the input as one UDP datagram, and read as a TCP
/// stream of length-prefixed queries (RFC 7766). Every query gets exactly one reply (none
/// only for a response or a runt), within the transport's size, that decodes, with the
/// query's ID; asked again (from the encoded response cache) it gets the same bytes. The
/// stream sent to the server's TCP side (`SessionDriver<DNSTCPSession>` on the test
/// double), whole or cut at points drawn from the input, gets those replies, framed, in
/// order, and the connection closes after them.
enum DNSResponderTarget {
    static let target = FuzzTarget(name: "dns-responder", summary: "DNS responder on a sample zone, over UDP and TCP framing") {
        let zones = loadSampleZones()
        return { data in
            // A responder per input, so that no answer cached by an earlier input is reused.
            let responder = DNSResponder(zones: zones, forwarder: nil, allowRecursion: [], logger: quiet)
            run([UInt8](data), responder)
        }
    }

    static let quiet = Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() }

    static let client = ConnectionID(local: SocketAddress(ip: IPAddress("192.0.2.1")!, port: 53),
                                     remote: SocketAddress(ip: IPAddress("198.51.100.7")!, port: 40000))

    static func run(_ input: [UInt8], _ responder: DNSResponder) {
        answer(input, over: .udp, responder)
        var framer = LengthPrefixFramer()
        framer.append(input)
        var expected: [UInt8] = []
        while case .message(let query) = framer.next() {
            if let reply = answer(query, over: .tcp, responder) { expected += LengthPrefixFramer.frame(reply) ?? [] }
        }
        let whole = overTCP(input, Pieces.whole(input.count), responder)
        require(whole.output == expected, "over a TCP connection the replies differ from the queries' own")
        require(!whole.open, "the connection stays open after the peer's EOF")
        let cuts = Pieces.cuts(input)
        require(overTCP(input, cuts, responder).output == whole.output, "over TCP the replies differ when the stream is cut at \(cuts)")
    }

    /// What the server's TCP side writes for `input` arriving in `pieces`, then EOF, and
    /// whether the connection is still open after it.
    static func overTCP(_ input: [UInt8], _ pieces: [Range<Int>], _ responder: DNSResponder) -> (output: [UInt8], open: Bool) {
        let session = DNSTCPSession(responder: responder, client: client, idleTimeout: 10)
        let driving = SessionDriver<DNSTCPSession>.Configuration(service: "dns", logger: quiet,
                                                                 inputLimit: DNSTCPSession.inputLimit)
        let connection = TestConnection(handler: SessionDriver(session, driving), local: client.local, remote: client.remote)
        connection.open()
        for piece in pieces {
            // Refused while reading is paused: what is in flight resumes it.
            while connection.isOpen && !connection.closedAfterFlush && !connection.receive(Array(input[piece])) {
                require(connection.runPending() > 0, "the TCP side stopped reading with nothing in flight")
            }
            while connection.runPending() > 0 {}
        }
        connection.receiveEOF()
        while connection.runPending() > 0 {}
        return (connection.takeOutput(), connection.isOpen)
    }

    /// The reply to `query`, checked.
    @discardableResult
    static func answer(_ query: [UInt8], over transport: DNSResponder.Transport, _ responder: DNSResponder) -> [UInt8]? {
        let first = reply(query, over: transport, responder)
        let again = reply(query, over: transport, responder)
        require(first == again, "asked again over \(transport), the reply differs")
        guard let bytes = first else {
            require(query.count < 12 || query[2] & 0x80 != 0, "no reply to a \(query.count)-byte query")
            return nil
        }
        let limit: Int
        switch transport {
        case .tcp, .tls:
            limit = 65535
        case .udp:
            let size = (try? DNSMessage.decode(query))?.edns.map { Int($0.udpSize) } ?? 512
            limit = min(max(size, 512), 1232)
        }
        // Over TCP the server writes the length in two bytes: past 65535 that traps.
        require(bytes.count <= limit, "\(bytes.count)-byte reply over \(transport), more than \(limit)")
        let response: DNSMessage
        do {
            response = try DNSMessage.decode(bytes)
        } catch {
            fatalError("our reply does not decode (\(error)): \(bytes)")
        }
        require(response.isResponse && bytes[0] == query[0] && bytes[1] == query[1], "reply is not a response with the query's ID")
        return bytes
    }

    /// The reply, which comes at once: with no forwarder, nothing is asked upstream.
    static func reply(_ query: [UInt8], over transport: DNSResponder.Transport, _ responder: DNSResponder) -> [UInt8]? {
        let replies = Replies()
        responder.respond(to: query, from: client, over: transport) { replies.add($0?.bytes) }
        require(replies.all.count == 1, "\(replies.all.count) replies to one query")
        return replies.all[0]
    }

    /// Collects what `respond` hands back. Only this thread calls it (no forwarder).
    final class Replies: @unchecked Sendable {
        var all: [[UInt8]?] = []
        func add(_ reply: [UInt8]?) { all.append(reply) }
    }

    static func loadSampleZones() -> ZoneStore {
        let folder = Scratch.makeFolder("zones")
        Scratch.write(sampleZone, to: folder + "/example.test.zone")
        Scratch.write(reverseZone, to: folder + "/2.0.192.in-addr.arpa.zone")
        do {
            return try ZoneStore(folder: folder)
        } catch {
            fatalError("the sample zones do not load: \(error)")
        }
    }

    /// Every kind of answer: records, CNAME chains (one leaving the zone, one a loop), a
    /// wildcard, an empty non-terminal, a delegation with glue, NODATA, NXDOMAIN, and a TXT
    /// too large for 512 bytes.
    static let sampleZone = """
        $ORIGIN example.test.
        $TTL 1h
        @       SOA   ns1 hostmaster 2026112501 2h 15m 2w 5m
                NS    ns1
                NS    ns2.example.test.
                MX    10 mail
                TXT   "v=spf1 mx -all"
                CAA   0 issue "letsencrypt.org"
                A     192.0.2.10
                AAAA  2001:db8::10
        ns1     A     192.0.2.1
        ns2     A     192.0.2.2
                AAAA  2001:db8::2
        mail    300 A 192.0.2.25
        www     CNAME @
        ftp     CNAME www
        out     CNAME 10.2.0.192.in-addr.arpa.
        far     CNAME elsewhere.invalid.
        loop1   CNAME loop2
        loop2   CNAME loop1
        *.wild  A     192.0.2.80
        a.b     A     192.0.2.90
        sub     NS    ns.sub
        ns.sub  A     192.0.2.53
        _sip._tcp SRV 10 60 5060 mail
        big     TXT   "\(String(repeating: "x", count: 250))" "\(String(repeating: "y", count: 250))" "\(String(repeating: "z", count: 250))"
        opaque  TYPE65280 \\# 4 0a000001

        """

    static let reverseZone = """
        $TTL 86400
        @   SOA  ns1.example.test. hostmaster.example.test. 1 7200 900 1209600 300
            NS   ns1.example.test.
        10  PTR  example.test.

        """
}
