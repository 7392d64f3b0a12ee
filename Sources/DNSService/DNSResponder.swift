import Dispatch
import Logging
import ServerCore

/// The one DNS core: takes a query's bytes and answers them, from our zones or through the
/// forwarder. UDP and TCP are thin transports around it; only they know the framing.
public final class DNSResponder: Sendable {
    public enum Transport: String, Sendable { case udp, tcp }

    let zones: ZoneStore
    let forwarder: Forwarder?
    let allowRecursion: [IPNetwork]
    let logger: Logger
    let encodedResponses = EncodedResponseCache()

    /// Our EDNS buffer size: large enough for most answers, small enough not to fragment.
    static let ednsSize: UInt16 = 1232

    public init(zones: ZoneStore, forwarder: Forwarder?, allowRecursion: [IPNetwork], logger: Logger) {
        self.zones = zones
        self.forwarder = forwarder
        self.allowRecursion = allowRecursion
        self.logger = logger
    }

    /// Where a response may be reused from: the query's key in the answer cache, the zones'
    /// generation, and until which second of the forwarder's clock (`.max`: until a reload).
    private struct Reuse {
        let key: [UInt8]
        let zones: Int
        let expires: UInt64
    }

    /// Answers `bytes`: `reply` is called exactly once, with the response, or with nil when
    /// the message deserves none (it is itself a response, or too short to have an ID). It
    /// is called before this returns unless the query goes upstream, so a caller without a
    /// socket (a test, a fuzz target) gets answers from the zones at once. The response
    /// keeps to the transport's limit: the client's EDNS size (512 to 1232) or 512 over
    /// UDP, 65535 over TCP.
    public func respond(to bytes: [UInt8], from client: ConnectionID, over transport: Transport,
                        reply: @escaping @Sendable ([UInt8]?) -> Void) {
        let started = DispatchTime.now().uptimeNanoseconds
        guard let header = DNSMessage.header(of: bytes), !header.isResponse else {
            logger.debug("dns \(client) \(transport.rawValue) dropped \(bytes.count) bytes: not a query")
            return reply(nil)
        }
        let recursionAllowed = forwarder != nil && allowRecursion.contains { $0.contains(client.remote.ip) }
        let zones = self.zones.current
        let second = forwarder?.cache.now ?? 0
        let key = EncodedResponseCache.key(bytes, tcp: transport == .tcp, recursionAllowed: recursionAllowed)
        if let hit = encodedResponses.lookup(key, id: (bytes[0], bytes[1]), zones: zones.generation, second: second) {
            reply(hit.bytes)
            return logAccess(client, transport, hit.summary, size: hit.bytes.count, started: started)
        }
        let untilReload = Reuse(key: key, zones: zones.generation, expires: .max)

        var response = DNSMessage()
        response.id = header.id
        response.isResponse = true
        response.opcode = header.opcode
        response.recursionDesired = header.flags & 0x0100 != 0

        if let refusal = DNSResponder.refusal(for: header) {
            // Answered from the header, echoing at most the first question (as NSD does): the
            // rest is never decoded, so a crafted body can neither cost much nor be echoed.
            response.rcode = refusal.rawValue
            response.questions = DNSMessage.firstQuestion(of: bytes).map { [$0] } ?? []
            return send(response, for: nil, to: client, over: transport, started: started, reuse: nil, reply: reply)
        }
        let query: DNSMessage
        do {
            query = try DNSMessage.decode(bytes)
        } catch {
            response.rcode = RCode.formErr.rawValue
            return send(response, for: nil, to: client, over: transport, started: started, reuse: nil, reply: reply)
        }
        response.questions = query.questions
        if let edns = query.edns { response.edns = DNSMessage.EDNS(udpSize: DNSResponder.ednsSize, dnssecOK: edns.dnssecOK) }
        let finish: @Sendable (DNSMessage, Reuse?) -> Void = { [self] response, reuse in
            send(response, for: query, to: client, over: transport, started: started, reuse: reuse, reply: reply)
        }
        if let refusal = DNSResponder.refusal(for: query) {
            response.rcode = refusal.rawValue
            return finish(response, untilReload)
        }
        let question = query.questions[0]
        if let answer = zones.authority.answer(question) {
            response.rcode = answer.rcode.rawValue
            response.authoritative = answer.authoritative
            response.answers = answer.answer
            response.authority = answer.authority
            response.additional = answer.additional
            return finish(response, untilReload)
        }
        guard query.recursionDesired, let forwarder, recursionAllowed else {
            // Not ours, and no resolver for this client: never an open resolver.
            response.rcode = RCode.refused.rawValue
            return finish(response, untilReload)
        }
        let forwarded: @Sendable (UpstreamRecordCache.Answer?, Reuse?) -> Void = { [response] answer, reuse in
            var response = response
            response.recursionAvailable = true
            if let answer {
                response.rcode = answer.rcode
                // The question as the client spelled it; the records as upstream gave them.
                response.answers = answer.answer
                response.authority = answer.authority
                response.additional = answer.additional
            } else {
                response.rcode = RCode.servFail.rawValue
            }
            finish(response, reuse)
        }
        if let held = forwarder.cached(question) {
            return forwarded(held, Reuse(key: key, zones: zones.generation, expires: second + 1))
        }
        forwarder.resolve(question) { answer in forwarded(answer, nil) }
    }

    /// Why a message is not decoded at all: an opcode other than QUERY, or not the shape of
    /// a query (one question, RFC 9619; no answer or authority records; in the additional
    /// section at most an OPT and a TSIG, as NSD requires).
    static func refusal(for header: DNSMessage.Header) -> RCode? {
        if header.opcode != 0 { return .notImp }
        guard header.counts[0] == 1, header.counts[1] == 0, header.counts[2] == 0, header.counts[3] <= 2 else { return .formErr }
        return nil
    }

    /// Why a well-formed query is not looked up, checked in this order; nil to go on.
    static func refusal(for query: DNSMessage) -> RCode? {
        if let edns = query.edns, edns.version > 0 { return .badVers }
        let question = query.questions[0]
        guard question.qclass == DNSClass.internet || question.qclass == DNSClass.any,
              question.type != .axfr, question.type != .ixfr else { return .refused }
        return nil
    }

    private func send(_ response: DNSMessage, for query: DNSMessage?, to client: ConnectionID, over transport: Transport,
                      started: UInt64, reuse: Reuse?, reply: @Sendable ([UInt8]?) -> Void) {
        let limit: Int
        switch transport {
        case .tcp: limit = DNSMessage.maxSize
        case .udp: limit = query?.edns.map { Int(min(max($0.udpSize, 512), DNSResponder.ednsSize)) } ?? 512
        }
        let bytes = response.encode(maxSize: limit)
        reply(bytes)
        guard reuse != nil || logger.logLevel <= .info else { return }
        let question = response.questions.first.map { "\($0.name) \($0.type)" } ?? "-"
        let rcode = RCode(rawValue: response.rcode).map { "\($0)".uppercased() } ?? "RCODE\(response.rcode)"
        let truncated = bytes.count > 2 && bytes[2] & 0x02 != 0 ? " TC" : ""
        let summary = "\"\(question)\" \(rcode)\(truncated) \(response.answers.count)"
        if let reuse {
            encodedResponses.store(reuse.key, response: bytes, summary: summary, zones: reuse.zones, expires: reuse.expires)
        }
        logAccess(client, transport, summary, size: bytes.count, started: started)
    }

    private func logAccess(_ client: ConnectionID, _ transport: Transport, _ summary: String, size: Int, started: UInt64) {
        guard logger.logLevel <= .info else { return }
        let micros = (DispatchTime.now().uptimeNanoseconds - started) / 1000
        logger.info("dns \(client) \(transport.rawValue) \(summary) \(size) \(micros / 1000).\(micros % 1000 / 100)ms")
    }
}
