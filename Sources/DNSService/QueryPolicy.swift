import ServerCore

/// What the responder will look up, and for whom, decided before any lookup: a message
/// not shaped like a query is answered from its header, a query we do not serve gets its
/// refusal, and only clients in `allow-recursion` have names that are not ours asked
/// upstream (never an open resolver).
enum QueryPolicy {
    /// Why a message is not decoded at all: an opcode other than QUERY, or not the shape of
    /// a query (one question, RFC 9619; no answer or authority records; in the additional
    /// section at most an OPT and a TSIG, as NSD requires). An IXFR query carries its
    /// client's SOA in the authority section (RFC 1995 3): `ixfr` says the question is one.
    static func refusal(for header: DNSMessage.Header, ixfr: Bool) -> RCode? {
        if header.opcode != 0 { return .notImp }
        guard header.counts[0] == 1, header.counts[1] == 0, header.counts[2] <= (ixfr ? 1 : 0), header.counts[3] <= 2 else { return .formErr }
        return nil
    }

    /// AXFR and IXFR: answered by the transfer rules, not looked up.
    static func isTransfer(_ question: DNSMessage.Question) -> Bool {
        question.type == .axfr || question.type == .ixfr
    }

    /// Why a well-formed query is not looked up, checked in this order; nil to go on.
    static func refusal(for query: DNSMessage) -> RCode? {
        if let edns = query.edns, edns.version > 0 { return .badVers }
        let question = query.questions[0]
        guard question.qclass == DNSClass.internet || question.qclass == DNSClass.any else { return .refused }
        return nil
    }

    /// Whether names that are not ours may be asked upstream for `client`.
    static func mayRecurse(_ client: ConnectionID, allowed: [IPNetwork]) -> Bool {
        allowed.contains { $0.contains(client.remote.ip) }
    }
}
