import ServerCore

/// Zone transfers (AXFR, RFC 5936; IXFR, RFC 1995) as the responder decides them: who may,
/// how it was signed (TSIG, RFC 8945), and what goes back: a refusal, the single SOA, or
/// the zone as a stream of messages that the TCP session writes as its output drains.
extension DNSResponder {
    /// The outcome of an AXFR or IXFR query; `bytes` is the query as it came (for its MAC).
    func transfer(_ query: DNSMessage, _ bytes: [UInt8], _ base: DNSMessage, _ exchange: Exchange) -> Outcome {
        let question = query.questions[0]
        let now = transfers.clock()
        let verdict = TSIG.verify(bytes, keys: transfers.keys, now: now)
        var response = base
        response.edns = nil
        let signer: TSIGSigner?
        switch verdict {
        case .malformed:
            response.rcode = RCode.formErr.rawValue
            return .now(transferReply(response, exchange, note: "malformed TSIG"))
        case .failed(let failure, let request, let key):
            response.rcode = RCode.notAuth.rawValue
            let note = "TSIG \(failure) for key \(DNSResponder.logText(request.keyName))"
            if failure == .badTime, let key {
                var signer = TSIGSigner.badTime(key: key, request: request, now: now)
                return .now(transferReply(response, exchange, note: note) { signer.sign($0) })
            }
            return .now(transferReply(response, exchange, note: note) { TSIGSigner.unsignedError(failure, request: request, to: $0) })
        case .valid(let key, let mac, _):
            signer = TSIGSigner(key: key, requestMAC: mac, time: now)
        case .unsigned:
            signer = nil
        }
        func sealed(_ note: String) -> Outcome {
            var signing = signer
            return .now(transferReply(response, exchange, note: note) { signing?.sign($0) ?? $0 })
        }
        guard let zone = zones.current.authority.zones.first(where: { $0.origin == question.name }) else {
            response.rcode = RCode.notAuth.rawValue
            return sealed("not a zone of ours")
        }
        if let refusal = transfers.refusal(exchange.client, verdict) {
            response.rcode = RCode.refused.rawValue
            return sealed(refusal)
        }
        response.authoritative = true
        if question.type == .ixfr, let current = DNSResponder.ixfrSerial(query), case .soa(let ours) = zone.soa.data,
           !Serial.precedes(current, ours.serial) || exchange.transport == .udp {
            // Up to date: the one SOA (RFC 1995 4). Over UDP the same SOA tells the client
            // to ask over TCP (RFC 1995 2), as no journal of differences is kept.
            response.answers = [zone.soa]
            return sealed("IXFR up to date or over UDP")
        }
        guard exchange.transport != .udp else {
            // As NSD: AXFR is TCP only (RFC 5936 4.2).
            response.rcode = RCode.notImp.rawValue
            return sealed("AXFR over UDP")
        }
        let transfer = ZoneTransfer(zone: zone, id: query.id, question: question, signer: signer)
        let summary = "\"\(DNSResponder.logText(question.name)) \(question.type)\""
        return .stream(transfer) { [self] done in
            metrics?.streamed(question.type.rawValue)
            guard wantsSummary else { return nil }
            return "\(exchange.transport.rawValue) \(summary) NOERROR \(done.records) \(done.messages)msg \(done.bytes)"
        }
    }

    /// The serial of the SOA an IXFR query carries in its authority section.
    static func ixfrSerial(_ query: DNSMessage) -> UInt32? {
        guard let record = query.authority.first, record.type == .soa, case .soa(let soa) = record.data else { return nil }
        return soa.serial
    }

    /// A one-message reply to a transfer request, sealed (signed, or its TSIG error
    /// appended), with its access text; never kept for reuse, as TSIG's time moves.
    func transferReply(_ response: DNSMessage, _ exchange: Exchange, note: String,
                               seal: (_ message: [UInt8]) -> [UInt8] = { $0 }) -> Answer {
        let unsigned = response.encode(maxSize: DNSMessage.maxSize)
        let bytes = seal(unsigned)
        metrics?.answered(bytes, over: exchange.transport)
        guard wantsSummary else { return Answer(bytes: bytes, summary: nil) }
        let question = response.questions.first.map { "\(DNSResponder.logText($0.name)) \($0.type)" } ?? "-"
        let rcode = RCode(rawValue: response.rcode).map { "\($0)".uppercased() } ?? "RCODE\(response.rcode)"
        return Answer(bytes: bytes, summary: "\"\(question)\" \(rcode) \(response.answers.count) (\(note))")
    }
}
