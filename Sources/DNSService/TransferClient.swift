import ServerCore

/// A zone transfer as the secondary sees it (RFC 5936, RFC 1995): the query to send, then
/// each message of the reply in turn, until the zone is whole or the transfer fails.
/// Sans-I/O: bytes in, a verdict out. IXFR is asked when we hold a copy; the answer must be
/// in AXFR form or the single SOA (no journal is kept, so an incremental one fails as
/// `.incremental` and is asked again as AXFR). Nothing is kept from a failed transfer.
public struct TransferClient: Sendable {
    public enum Outcome: Sendable {
        /// The primary's serial is ours: nothing to change.
        case upToDate(serial: UInt32)
        case zone(Zone)
    }

    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case rcode(UInt16)
        case malformed(String)
        case outsideZone(DNSName)
        case lowerSerial(ours: UInt32, theirs: UInt32)
        case incremental
        case tsig(String)
        case tooLarge
        /// Said by the transport: the connection ended, or the deadline passed.
        case cutShort(String)

        public var description: String {
            switch self {
            case .rcode(let code): "refused with \(RCode(rawValue: code).map { "\($0)".uppercased() } ?? "RCODE\(code)")"
            case .malformed(let why): "malformed: \(why)"
            case .outsideZone(let name): "a record outside the zone: \(DNSResponder.logText(name))"
            case .lowerSerial(let ours, let theirs): "the primary's serial \(theirs) is lower than ours (\(ours))"
            case .incremental: "an incremental IXFR (asking again for AXFR)"
            case .tsig(let why): "TSIG: \(why)"
            case .tooLarge: "larger than \(TransferClient.maxBytes) octets"
            case .cutShort(let why): "no closing SOA: \(why)"
            }
        }
    }

    public enum Step: Sendable {
        case needMore
        case done(Outcome)
        case failed(Failure)
    }

    /// What one transfer may bring at most, so a hostile primary cannot fill our memory.
    public static let maxBytes = 256 * 1024 * 1024

    public let origin: DNSName
    public let ourSerial: UInt32?
    public let asksIXFR: Bool
    /// The query, signed when a key is given.
    public let request: [UInt8]
    private let id: UInt16
    private var check: TSIGResponseCheck?
    private var records: [ResourceRecord] = []
    private var serial: UInt32?
    private var bytes = 0
    private var messages = 0

    /// `serial`: the copy we hold, or nil; IXFR is asked with it unless `ixfr` is false
    /// (AXFR then, still refusing a lower serial).
    public init(origin: DNSName, serial: UInt32?, ixfr: Bool = true, key: TSIGKey?, id: UInt16, now: UInt64) {
        self.origin = origin
        self.id = id
        ourSerial = serial
        asksIXFR = ixfr && serial != nil
        var query = DNSMessage()
        query.id = id
        query.questions = [DNSMessage.Question(name: origin, type: asksIXFR ? .ixfr : .axfr)]
        if asksIXFR, let serial {
            // RFC 1995 3: our SOA in the authority section; only its serial is read.
            let soa = RData.SOA(mname: .root, rname: .root, serial: serial, refresh: 0, retry: 0, expire: 0, minimum: 0)
            query.authority = [ResourceRecord(name: origin, type: .soa, ttl: 0, data: .soa(soa))]
        }
        let unsigned = query.encode()
        guard let key else {
            request = unsigned
            return
        }
        var signer = TSIGSigner(requestKey: key, time: now)
        request = signer.sign(unsigned)
        let mac = (try? TSIGRecord.split(request))?.record.mac ?? []
        check = TSIGResponseCheck(key: key, requestMAC: mac)
    }

    /// The next message of the reply (without its length prefix).
    public mutating func receive(_ message: [UInt8], now: UInt64) -> Step {
        bytes += message.count
        guard bytes <= TransferClient.maxBytes else { return .failed(.tooLarge) }
        if var verifier = check {
            if let problem = verifier.check(message, now: now) { return .failed(.tsig(problem)) }
            check = verifier
        }
        let reply: DNSMessage
        do { reply = try DNSMessage.decode(message) } catch { return .failed(.malformed("\(error)")) }
        guard reply.isResponse, reply.id == id, reply.opcode == 0 else { return .failed(.malformed("not the reply to our query")) }
        guard reply.rcode == RCode.noError.rawValue else { return .failed(.rcode(reply.rcode)) }
        if messages == 0, let question = reply.questions.first, question.name != origin {
            return .failed(.malformed("the question is for \(DNSResponder.logText(question.name))"))
        }
        messages += 1
        for (index, record) in reply.answers.enumerated() {
            if let outcome = take(record) {
                if case .done(.upToDate) = outcome { return outcome }
                if case .failed = outcome { return outcome }
                guard index == reply.answers.count - 1 else { return .failed(.malformed("records after the closing SOA")) }
                if let check, !check.endsSigned { return .failed(.tsig("the last message is not signed")) }
                return outcome
            }
        }
        return .needMore
    }

    /// Takes one record; a step when it ends the transfer.
    private mutating func take(_ record: ResourceRecord) -> Step? {
        var record = record
        // RFC 2181 8: a TTL with its top bit set is taken as 0 (a zone file could not keep it;
        // found by the dns-secondary fuzz target).
        if record.ttl > UInt32(Int32.max) { record.ttl = 0 }
        guard let serial else {
            guard record.type == .soa, record.name == origin, case .soa(let soa) = record.data else {
                return .failed(.malformed("the first record is not the zone's SOA"))
            }
            if let ourSerial, Serial.precedes(soa.serial, ourSerial) {
                return .failed(.lowerSerial(ours: ourSerial, theirs: soa.serial))
            }
            // The single SOA (RFC 1995 4), or the same serial whatever follows: we are current.
            if asksIXFR, let ourSerial, soa.serial == ourSerial { return .done(.upToDate(serial: ourSerial)) }
            self.serial = soa.serial
            records = [record]
            return nil
        }
        guard record.name.isSubdomain(of: origin) else { return .failed(.outsideZone(record.name)) }
        guard record.rclass == DNSClass.internet else { return .failed(.malformed("a record of class \(record.rclass)")) }
        // What the zone file could not hold either (the kept copy must read back).
        guard record.type.isZoneData else { return .failed(.malformed("a record of type \(record.type)")) }
        if record.type == .soa, case .soa(let soa) = record.data {
            guard soa.serial == serial else {
                // A second SOA with another serial opens IXFR's first difference sequence.
                return records.count == 1 ? .failed(.incremental) : .failed(.malformed("an SOA with serial \(soa.serial) inside the zone"))
            }
            do {
                return .done(.zone(try Zone(origin: origin, records: records)))
            } catch {
                return .failed(.malformed(error.message))
            }
        }
        records.append(record)
        return nil
    }
}
