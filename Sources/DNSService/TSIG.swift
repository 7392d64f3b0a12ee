import ServerCore

/// A shared secret for TSIG (RFC 8945), as a keys file names it.
public struct TSIGKey: Sendable, Equatable {
    public let name: DNSName
    public let algorithm: MessageAuthentication.Algorithm
    let secret: [UInt8]

    public init(name: DNSName, algorithm: MessageAuthentication.Algorithm, secret: [UInt8]) {
        self.name = name
        self.algorithm = algorithm
        self.secret = secret
    }

    /// `hmac-sha256.` and its kin (RFC 8945 6).
    var algorithmName: DNSName { DNSName(labels: [Array("hmac-\(algorithm.rawValue)".utf8)]) }

    static func algorithm(named name: DNSName) -> MessageAuthentication.Algorithm? {
        guard name.labels.count == 1, let label = name.labels.first else { return nil }
        let text = String(decoding: label, as: UTF8.self).lowercased()
        guard text.hasPrefix("hmac-") else { return nil }
        return MessageAuthentication.Algorithm(rawValue: String(text.dropFirst(5)))
    }
}

/// Checks a signed request and signs what answers it (RFC 8945 5): pure, the time passed in.
enum TSIG {
    /// How far a peer's clock may be from ours, as BIND and NSD allow by default.
    static let fudge: UInt16 = 300

    /// What a request's TSIG says.
    enum Verdict: Equatable {
        /// Not signed.
        case unsigned
        /// Signed with `key`: answers are signed after `mac`.
        case valid(key: TSIGKey, mac: [UInt8], request: TSIGRecord)
        /// A signature that does not hold: answered with NOTAUTH and this error, signed
        /// only for BADTIME (the others cannot be, RFC 8945 5.3.2).
        case failed(TSIGRecord.Failure, request: TSIGRecord, key: TSIGKey?)
        /// A TSIG where none may be, or one that does not parse: FORMERR.
        case malformed
    }

    static func verify(_ bytes: [UInt8], keys: [DNSName: TSIGKey], now: UInt64) -> Verdict {
        let found: (record: TSIGRecord, unsigned: [UInt8])?
        do { found = try TSIGRecord.split(bytes) } catch { return .malformed }
        guard let (record, unsigned) = found else { return .unsigned }
        guard let key = keys[record.keyName.canonical], TSIGKey.algorithm(named: record.algorithm) == key.algorithm else {
            return .failed(.badKey, request: record, key: nil)
        }
        // Truncated MACs (RFC 8945 5.2.2.1) are not accepted: only the whole one.
        guard let expected = MessageAuthentication.mac(key.algorithm, key: key.secret, [unsigned, record.variables(timersOnly: false)]),
              MessageAuthentication.equal(expected, record.mac) else {
            return .failed(.badSig, request: record, key: nil)
        }
        let skew = now > record.timeSigned ? now - record.timeSigned : record.timeSigned - now
        guard skew <= UInt64(record.fudge) else { return .failed(.badTime, request: record, key: key) }
        return .valid(key: key, mac: record.mac, request: record)
    }
}

/// Signs the messages answering one signed request, each MAC chained to the one before
/// (RFC 8945 5.3: the first after the request's MAC with every variable, the later ones
/// of a transfer after the previous message's MAC with the timers only, 5.3.1).
struct TSIGSigner: Sendable {
    let key: TSIGKey
    let time: UInt64
    /// The MAC this one is chained to; nil for a request, which starts a chain.
    private var previousMAC: [UInt8]?
    private var first = true
    private var error: UInt16 = 0
    private var other: [UInt8] = []

    init(key: TSIGKey, requestMAC: [UInt8], time: UInt64) {
        self.key = key
        self.time = time
        previousMAC = requestMAC
    }

    /// Signs a request of ours (a NOTIFY, a transfer query): nothing before it is chained in.
    init(requestKey key: TSIGKey, time: UInt64) {
        self.key = key
        self.time = time
        previousMAC = nil
    }

    /// BADTIME's reply: signed, carrying our time in the other data (RFC 8945 5.2.3).
    static func badTime(key: TSIGKey, request: TSIGRecord, now: UInt64) -> TSIGSigner {
        var signer = TSIGSigner(key: key, requestMAC: request.mac, time: request.timeSigned)
        signer.error = TSIGRecord.Failure.badTime.rawValue
        let clock = min(now, TSIGRecord.largestTime)
        signer.other = (0..<6).map { UInt8(truncatingIfNeeded: clock >> (40 - 8 * UInt64($0))) }
        return signer
    }

    /// Octets a message must leave free for its TSIG.
    var reserve: Int { record(id: 0, mac: [UInt8](repeating: 0, count: key.algorithm.size)).size }

    /// `message` (as encoded, its ARCOUNT without the TSIG) with its TSIG appended.
    mutating func sign(_ message: [UInt8]) -> [UInt8] {
        guard message.count >= DNSMessage.headerLength else { return message }
        let id = UInt16(message[0]) << 8 | UInt16(message[1])
        var unsignedRecord = record(id: id, mac: [])
        var input = MessageAuthentication.Stream(key.algorithm, key: key.secret)
        if let previousMAC { input?.update(TSIGSigner.lengthPrefixed(previousMAC)) }
        input?.update(message)
        input?.update(unsignedRecord.variables(timersOnly: !first))
        // A key OpenSSL refuses (none does) leaves the message with an empty MAC: the peer refuses it.
        unsignedRecord.mac = input?.finish() ?? []
        previousMAC = unsignedRecord.mac
        first = false
        return TSIGSigner.appending(unsignedRecord, to: message)
    }

    /// An error reply's TSIG, unsigned: an empty MAC (BADKEY, BADSIG).
    static func unsignedError(_ failure: TSIGRecord.Failure, request: TSIGRecord, to message: [UInt8]) -> [UInt8] {
        guard message.count >= DNSMessage.headerLength else { return message }
        var record = request
        record.mac = []
        record.error = failure.rawValue
        record.other = []
        record.originalID = UInt16(message[0]) << 8 | UInt16(message[1])
        return appending(record, to: message)
    }

    private func record(id: UInt16, mac: [UInt8]) -> TSIGRecord {
        TSIGRecord(keyName: key.name, algorithm: key.algorithmName, timeSigned: time, fudge: TSIG.fudge, mac: mac,
                   originalID: id, error: error, other: other)
    }

    static func lengthPrefixed(_ mac: [UInt8]) -> [UInt8] {
        [UInt8(truncatingIfNeeded: mac.count >> 8), UInt8(truncatingIfNeeded: mac.count)] + mac
    }

    private static func appending(_ record: TSIGRecord, to message: [UInt8]) -> [UInt8] {
        let count = (Int(message[10]) << 8 | Int(message[11])) + 1
        guard count <= 0xFFFF else { return message }
        var signed = message + record.encoded
        signed[10] = UInt8(count >> 8)
        signed[11] = UInt8(truncatingIfNeeded: count)
        return signed
    }
}
