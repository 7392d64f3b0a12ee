import Logging
import ServerCore

/// The one DNS core: takes a query's bytes and answers them, from our zones or through the
/// forwarder. UDP and TCP are thin transports around it; only they know the framing.
///
/// A query passes through small named steps, in this order: the encoded response cache
/// (`reused`), `QueryPolicy` (is it the shape of a query we serve?), our zones
/// (`fromZones`), `QueryPolicy` again (may this client recurse?), upstream (`forward`),
/// and `finish` (encode to the transport's limit, keep for reuse, say what the access line
/// says). The transports time and write the access lines (`DatagramLog`, `SessionDriver`).
public final class DNSResponder: Sendable {
    /// How a query came: `tls` is DNS over TLS (RFC 7858), TCP's framing inside TLS.
    public enum Transport: String, Sendable { case udp, tcp, tls }

    /// A response, and what its access line says of it.
    public struct Answer: Sendable {
        /// The response as encoded; one kept for reuse still has the ID it was made with.
        public let encoded: [UInt8]
        /// The query's ID when `encoded` is a kept response: written over its first two
        /// bytes as it is sent, so that the kept array is not copied (nil: `encoded` has it).
        public let id: (UInt8, UInt8)?
        /// `"name TYPE" RCODE [TC] count`: nil when no access line is written and no metrics
        /// are kept, so nobody reads it.
        public let summary: String?

        init(bytes: [UInt8], summary: String?) {
            encoded = bytes
            id = nil
            self.summary = summary
        }

        init(kept: [UInt8], id: (UInt8, UInt8), summary: String?) {
            encoded = kept
            self.id = id
            self.summary = summary
        }

        /// The response, with the query's ID.
        public var bytes: [UInt8] { id.map { [$0.0, $0.1] + encoded.dropFirst(2) } ?? encoded }

        /// The access line's text for `transport` (`tcp SUMMARY SIZE`), when there is one.
        public func access(over transport: Transport) -> String? {
            summary.map { "\(transport.rawValue) \($0) \(encoded.count)" }
        }
    }

    /// What a query gets: its answer at once (nil: it deserves none, being itself a
    /// response or too short to have an ID), or later from upstream: `begin` asks, and calls
    /// `reply` exactly once, from any queue, with the answer (SERVFAIL if upstream fails).
    public enum Outcome: Sendable {
        case now(Answer?)
        case upstream(begin: @Sendable (_ reply: @escaping @Sendable (Answer) -> Void) -> Void)
        /// A zone transfer (TCP only): its messages, taken one at a time as output drains;
        /// `finished` gives its access text (as `Answer.access`) once the last has gone.
        case stream(ZoneTransfer, finished: @Sendable (_ transfer: ZoneTransfer) -> String?)
    }

    let zones: ZoneStore
    let forwarder: (any UpstreamResolver)?
    let allowRecursion: [IPNetwork]
    let transfers: TransferPolicy
    /// The zones we are a secondary for, which a NOTIFY from their primary refreshes.
    let secondaries: (any NotifyReceiver)?
    let logger: Logger
    let metrics: DNSMetrics?
    /// How UDP answers are logged and timed (the listener's side of the access line).
    public let datagramLog: DatagramLog
    /// Someone reads the access text: access lines are written, or metrics kept (the
    /// console's recent datagrams show it).
    let wantsSummary: Bool
    let encodedResponses = EncodedResponseCache()

    /// Our EDNS buffer size: large enough for most answers, small enough not to fragment.
    static let ednsSize: UInt16 = 1232

    public init(zones: ZoneStore, forwarder: (any UpstreamResolver)?, allowRecursion: [IPNetwork],
                transfers: TransferPolicy = TransferPolicy(), secondaries: (any NotifyReceiver)? = nil, logger: Logger,
                metrics: DNSMetrics? = nil) {
        self.metrics = metrics
        self.zones = zones
        self.forwarder = forwarder
        self.allowRecursion = allowRecursion
        self.transfers = transfers
        self.secondaries = secondaries
        self.logger = logger
        datagramLog = DatagramLog(service: "dns", logger: logger, duration: metrics?.duration, recent: metrics?.recentDatagrams)
        wantsSummary = datagramLog.isTimed
    }

    /// One query on its way through the steps: who asked and how, and where its response
    /// may be kept (its key, the zones' generation, the forwarder's second).
    struct Exchange: Sendable {
        let client: ConnectionID
        let transport: Transport
        let recursionAllowed: Bool
        let key: EncodedResponseCache.Key
        let zones: Int
        let second: UInt64
    }

    /// The response to `bytes`, within the transport's limit: the client's EDNS size (512 to
    /// 1232) or 512 over UDP, 65535 over TCP. Only a query sent upstream is not answered
    /// `.now`, so a caller without a socket (a test, a fuzz target) gets the zones' answers at once.
    public func answer(_ bytes: [UInt8], from client: ConnectionID, over transport: Transport) -> Outcome {
        guard let header = DNSMessage.header(of: bytes), !header.isResponse else {
            logger.debug("dns \(client) \(transport.rawValue) dropped \(bytes.count) bytes: not a query")
            return .now(nil)
        }
        let recursionAllowed = forwarder != nil && QueryPolicy.mayRecurse(client, allowed: allowRecursion)
        let zones = self.zones.current
        let exchange = Exchange(client: client, transport: transport, recursionAllowed: recursionAllowed,
                                key: EncodedResponseCache.key(bytes, tcp: transport != .udp, recursionAllowed: recursionAllowed),
                                zones: zones.generation, second: forwarder?.now ?? 0)
        if header.opcode == Notify.opcode { return .now(notify(bytes, header, exchange)) }
        if let hit = reused(bytes, exchange) { return .now(hit) }

        var response = DNSResponder.response(to: header)
        let ixfr = header.counts[2] == 1 && DNSMessage.firstQuestion(of: bytes)?.type == .ixfr
        if let refusal = QueryPolicy.refusal(for: header, ixfr: ixfr) {
            // Answered from the header, echoing at most the first question (as NSD does): the
            // rest is never decoded, so a crafted body can neither cost much nor be echoed.
            response.rcode = refusal.rawValue
            response.questions = DNSMessage.firstQuestion(of: bytes).map { [$0] } ?? []
            return .now(finish(response, for: nil, exchange, keptUntil: nil))
        }
        guard let query = try? DNSMessage.decode(bytes) else {
            response.rcode = RCode.formErr.rawValue
            return .now(finish(response, for: nil, exchange, keptUntil: nil))
        }
        response.questions = query.questions
        if let edns = query.edns { response.edns = DNSMessage.EDNS(udpSize: DNSResponder.ednsSize, dnssecOK: edns.dnssecOK) }
        if let refusal = QueryPolicy.refusal(for: query) {
            response.rcode = refusal.rawValue
        } else if QueryPolicy.isTransfer(query.questions[0]) {
            return transfer(query, bytes, response, exchange)
        } else if !zones.unavailable.isEmpty, zones.unavailable.contains(where: { query.questions[0].name.isSubdomain(of: $0) }) {
            // A secondary zone with no copy yet, or past its expire time (RFC 1035 4.3.5).
            response.rcode = RCode.servFail.rawValue
        } else if !DNSResponder.fromZones(query.questions[0], zones.authority, into: &response) {
            if query.recursionDesired, recursionAllowed, let forwarder { return forward(query, response, exchange, through: forwarder) }
            // Not ours, and no resolver for this client: never an open resolver.
            response.rcode = RCode.refused.rawValue
        }
        // Everything decided from the zones holds until they are reloaded.
        return .now(finish(response, for: query, exchange, keptUntil: .max))
    }

    /// `answer`, for a caller that takes every answer the same way (UDP): `reply` is
    /// called exactly once, before this returns unless the query goes upstream.
    public func respond(to bytes: [UInt8], from client: ConnectionID, over transport: Transport,
                        reply: @escaping @Sendable (Answer?) -> Void) {
        switch answer(bytes, from: client, over: transport) {
        case .now(let response): reply(response)
        case .upstream(let begin): begin { reply($0) }
        // Never over UDP: `transfer` answers those at once.
        case .stream: reply(nil)
        }
    }

    /// The encoded response cache: what was sent for the same query bytes, with this ID.
    private func reused(_ bytes: [UInt8], _ exchange: Exchange) -> Answer? {
        guard let hit = encodedResponses.lookup(exchange.key, id: (bytes[0], bytes[1]), zones: exchange.zones,
                                                second: exchange.second) else { return nil }
        metrics?.answered(hit.kept, over: exchange.transport)
        return Answer(kept: hit.kept, id: hit.id, summary: wantsSummary ? hit.summary : nil)
    }

    /// The start of every response: the query's ID, opcode and RD.
    static func response(to header: DNSMessage.Header) -> DNSMessage {
        var response = DNSMessage()
        response.id = header.id
        response.isResponse = true
        response.opcode = header.opcode
        response.recursionDesired = header.flags & 0x0100 != 0
        return response
    }

    /// Our zones' answer to `question`; false when it is in none of them. QCLASS ANY gets
    /// the IN data without AA: a server cannot know that it holds every class, so such an
    /// answer is never authoritative (RFC 1034 3.7.1; NSD clears AA the same way).
    static func fromZones(_ question: DNSMessage.Question, _ authority: Authority, into response: inout DNSMessage) -> Bool {
        guard let answer = authority.answer(question) else { return false }
        response.rcode = answer.rcode.rawValue
        response.authoritative = answer.authoritative && question.qclass != DNSClass.any
        response.answers = answer.answer
        response.authority = answer.authority
        response.additional = answer.additional
        return true
    }

    /// Upstream, through the forwarder's record cache: a held answer at once (its response
    /// kept for this second only, as its TTLs count down), else upstream's, later.
    private func forward(_ query: DNSMessage, _ response: DNSMessage, _ exchange: Exchange,
                         through forwarder: any UpstreamResolver) -> Outcome {
        let question = query.questions[0]
        let held = forwarder.cached(question)
        metrics?.cacheLookup(hit: held != nil)
        if let held {
            return .now(finish(DNSResponder.response(response, with: held), for: query, exchange, keptUntil: exchange.second + 1))
        }
        return .upstream { [self] reply in
            forwarder.resolve(question) { answer in
                if answer == nil { self.metrics?.upstreamFailed() }
                reply(self.finish(DNSResponder.response(response, with: answer), for: query, exchange, keptUntil: nil))
            }
        }
    }

    /// `response` carrying upstream's answer (nil: SERVFAIL): the question as the client
    /// spelled it, the records as upstream gave them.
    static func response(_ response: DNSMessage, with answer: UpstreamRecordCache.Answer?) -> DNSMessage {
        var response = response
        response.recursionAvailable = true
        guard let answer else {
            response.rcode = RCode.servFail.rawValue
            return response
        }
        response.rcode = answer.rcode
        response.answers = answer.answer
        response.authority = answer.authority
        response.additional = answer.additional
        return response
    }

    /// Encodes `response` within the transport's limit and keeps it for reuse while the
    /// forwarder's second is below `keptUntil` (nil: not kept).
    private func finish(_ response: DNSMessage, for query: DNSMessage?, _ exchange: Exchange, keptUntil expires: UInt64?) -> Answer {
        let limit: Int
        switch exchange.transport {
        case .tcp, .tls: limit = DNSMessage.maxSize
        case .udp: limit = query?.edns.map { Int(min(max($0.udpSize, 512), DNSResponder.ednsSize)) } ?? 512
        }
        let bytes = response.encode(maxSize: limit)
        metrics?.answered(bytes, over: exchange.transport)
        guard expires != nil || wantsSummary else { return Answer(bytes: bytes, summary: nil) }
        let question = response.questions.first.map { "\(DNSResponder.logText($0.name)) \($0.type)" } ?? "-"
        let rcode = RCode(rawValue: response.rcode).map { "\($0)".uppercased() } ?? "RCODE\(response.rcode)"
        let truncated = bytes.count > 2 && bytes[2] & 0x02 != 0 ? " TC" : ""
        let summary = "\"\(question)\" \(rcode)\(truncated) \(response.answers.count)"
        if let expires {
            encodedResponses.store(exchange.key, response: bytes, summary: summary, zones: exchange.zones, expires: expires)
        }
        return Answer(bytes: bytes, summary: wantsSummary ? summary : nil)
    }

    /// A question's name for the access line, by the rule every service's lines follow
    /// (`LogEscape`, nginx's `\xHH`: no quote, backslash or control byte from the wire), with
    /// a `.` or blank inside a label written `\x2E` / `\x20` as well, so the name stays one
    /// token that reads back exactly. Plain names are as dig shows them: `www.example.test.`.
    public static func logText(_ name: DNSName) -> String {
        guard !name.labels.isEmpty else { return "." }
        var out: [UInt8] = []
        for label in name.labels {
            for byte in label {
                switch byte {
                case UInt8(ascii: "."): out += Array("\\x2E".utf8)
                case UInt8(ascii: " "): out += Array("\\x20".utf8)
                default: LogEscape.append(CollectionOfOne(byte), to: &out)
                }
            }
            out.append(UInt8(ascii: "."))
        }
        return String(decoding: out, as: UTF8.self)
    }
}
