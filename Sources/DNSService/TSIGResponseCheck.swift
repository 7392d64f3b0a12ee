import ServerCore

/// Checks the messages that answer a request we signed (RFC 8945 5.3.1, 5.4): the first
/// must be signed, its MAC chained to our request's; in a transfer, later messages may go
/// unsigned (at most 99 in a row), each signed one covering those since the last. Pure,
/// the time passed in.
struct TSIGResponseCheck: Sendable {
    let key: TSIGKey
    private var previousMAC: [UInt8]
    private var first = true
    /// Messages since the last signed one, as they came (their MAC will cover them).
    private var unsigned: [[UInt8]] = []

    /// At most this many unsigned messages in a row (RFC 8945 5.3.1: every 100th is signed).
    static let maxUnsigned = 99

    init(key: TSIGKey, requestMAC: [UInt8]) {
        self.key = key
        previousMAC = requestMAC
    }

    /// Whether the messages so far end with a signed one: a transfer must.
    var endsSigned: Bool { unsigned.isEmpty && !first }

    /// Why `bytes` does not hold; nil when it does (or may wait for a later MAC).
    mutating func check(_ bytes: [UInt8], now: UInt64) -> String? {
        let found: (record: TSIGRecord, unsigned: [UInt8])?
        do { found = try TSIGRecord.split(bytes) } catch { return "a malformed TSIG" }
        guard let (record, message) = found else {
            guard !first else { return "not signed" }
            guard unsigned.count < TSIGResponseCheck.maxUnsigned else { return "more than \(TSIGResponseCheck.maxUnsigned) messages unsigned" }
            unsigned.append(bytes)
            return nil
        }
        guard record.keyName == key.name, TSIGKey.algorithm(named: record.algorithm) == key.algorithm else {
            return "signed with another key (\(record.keyName))"
        }
        guard record.error == 0 else {
            return "TSIG error \(TSIGRecord.Failure(rawValue: record.error).map { "\($0)" } ?? "\(record.error)")"
        }
        guard var input = MessageAuthentication.Stream(key.algorithm, key: key.secret) else { return "an unusable key" }
        input.update(TSIGSigner.lengthPrefixed(previousMAC))
        for piece in unsigned { input.update(piece) }
        input.update(message)
        input.update(record.variables(timersOnly: !first))
        guard let expected = input.finish(), MessageAuthentication.equal(expected, record.mac) else { return "a bad MAC" }
        let skew = now > record.timeSigned ? now - record.timeSigned : record.timeSigned - now
        guard skew <= UInt64(record.fudge) else { return "signed at a time outside the fudge" }
        previousMAC = record.mac
        unsigned = []
        first = false
        return nil
    }
}
