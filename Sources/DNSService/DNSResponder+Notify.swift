import ServerCore

/// What hears of a NOTIFY for one of our secondary zones (`Secondaries`).
public protocol NotifyReceiver: Sendable {
    /// A NOTIFY for `origin` from `sender`: a refresh starts when it came from that zone's primary.
    func notified(_ origin: DNSName, from sender: IPAddress) -> NotifyVerdict
}

public enum NotifyVerdict: Sendable, Equatable {
    /// From the zone's primary: the zone is refreshed now.
    case accepted
    /// For a zone we are not a secondary for.
    case notSecondary
    /// From an address that is not the zone's primary.
    case notFromPrimary
}

/// A NOTIFY that reaches us (RFC 1996 3.7-3.11): answered with a NOTIFY response, NOERROR
/// when it came from the zone's primary (whose zone we then refresh), REFUSED otherwise;
/// every one logged. A signed one is checked as a transfer request is, and its answer
/// signed; an unsigned one from the primary's address is taken, as it can do no more than
/// make us ask the primary itself.
extension DNSResponder {
    func notify(_ bytes: [UInt8], _ header: DNSMessage.Header, _ exchange: Exchange) -> Answer? {
        guard !header.isResponse else { return nil }
        var response = DNSResponder.response(to: header)
        response.questions = DNSMessage.firstQuestion(of: bytes).map { [$0] } ?? []
        guard header.counts[0] == 1, let query = try? DNSMessage.decode(bytes), let question = query.questions.first else {
            response.rcode = RCode.formErr.rawValue
            return transferReply(response, exchange, note: "malformed NOTIFY")
        }
        let now = transfers.clock()
        var signer: TSIGSigner?
        switch TSIG.verify(bytes, keys: transfers.keys, now: now) {
        case .malformed:
            response.rcode = RCode.formErr.rawValue
            return transferReply(response, exchange, note: "NOTIFY with a malformed TSIG")
        case .failed(let failure, let request, _):
            response.rcode = RCode.notAuth.rawValue
            return transferReply(response, exchange, note: "NOTIFY: TSIG \(failure)") {
                TSIGSigner.unsignedError(failure, request: request, to: $0)
            }
        case .valid(let key, let mac, _):
            signer = TSIGSigner(key: key, requestMAC: mac, time: now)
        case .unsigned:
            signer = nil
        }
        let verdict = question.type == .soa ? secondaries?.notified(question.name, from: exchange.client.remote.ip) ?? .notSecondary
            : .notSecondary
        let note: String
        switch verdict {
        case .accepted:
            note = "NOTIFY from the primary: refreshing"
        case .notSecondary:
            response.rcode = RCode.refused.rawValue
            note = "NOTIFY refused: not a secondary zone of ours"
        case .notFromPrimary:
            response.rcode = RCode.refused.rawValue
            note = "NOTIFY refused: not from the zone's primary"
        }
        return transferReply(response, exchange, note: note) { signer?.sign($0) ?? $0 }
    }
}
