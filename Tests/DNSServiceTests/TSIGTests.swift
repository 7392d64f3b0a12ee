import ServerCore
import Testing
@testable import DNSService

/// TSIG (RFC 8945) on bytes: a request signed here verifies, a changed byte, key or clock
/// does not (BADSIG, BADKEY, BADTIME), and a transfer's MACs chain as 5.3.1 says.
@Suite struct TSIGTests {
    static let key = TSIGKey(name: DNSName("xfr.test.")!, algorithm: .sha256, secret: Array("0123456789abcdef0123456789abcdef".utf8))
    static let keys = [key.name: key]

    @Test func hmacMatchesRFC4231() {
        let mac = MessageAuthentication.mac(.sha256, key: Array("Jefe".utf8), [Array("what do ya want ".utf8), Array("for nothing?".utf8)])
        let hex = mac.map { $0.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() }
        #expect(hex == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(MessageAuthentication.equal([1, 2, 3], [1, 2, 3]))
        #expect(!MessageAuthentication.equal([1, 2, 3], [1, 2, 4]))
        #expect(!MessageAuthentication.equal([1, 2, 3], [1, 2]))
    }

    /// A query signed as a client signs it: its MAC over the message and every variable.
    static func signedQuery(key: TSIGKey = key, time: UInt64 = 1_000_000) -> [UInt8] {
        var query = DNSMessage()
        query.id = 0x1234
        query.questions = [.init(name: DNSName("example.test.")!, type: .axfr)]
        let bytes = query.encode()
        var record = TSIGRecord(keyName: key.name, algorithm: key.algorithmName, timeSigned: time, fudge: 300, mac: [],
                                originalID: 0x1234, error: 0, other: [])
        record.mac = MessageAuthentication.mac(key.algorithm, key: key.secret, [bytes, record.variables(timersOnly: false)])!
        var signed = bytes + record.encoded
        signed[11] = 1
        return signed
    }

    @Test func aSignedRequestVerifiesAndChangesDoNot() {
        let query = TSIGTests.signedQuery()
        guard case .valid(let key, _, _) = TSIG.verify(query, keys: TSIGTests.keys, now: 1_000_100) else {
            Issue.record("a signed query does not verify")
            return
        }
        #expect(key == TSIGTests.key)
        var changed = query
        changed[13] ^= 0x20
        #expect(TSIG.verify(changed, keys: TSIGTests.keys, now: 1_000_100).failure == .badSig)
        let other = TSIGKey(name: DNSName("other.test.")!, algorithm: .sha256, secret: [1, 2, 3])
        #expect(TSIG.verify(TSIGTests.signedQuery(key: other), keys: TSIGTests.keys, now: 1_000_000).failure == .badKey)
        let sha1 = TSIGKey(name: TSIGTests.key.name, algorithm: .sha1, secret: TSIGTests.key.secret)
        #expect(TSIG.verify(TSIGTests.signedQuery(key: sha1), keys: TSIGTests.keys, now: 1_000_000).failure == .badKey)
        #expect(TSIG.verify(query, keys: TSIGTests.keys, now: 1_000_301).failure == .badTime)
        #expect(TSIG.verify(query, keys: TSIGTests.keys, now: 999_699).failure == .badTime)
        #expect(TSIG.verify(Array(query.dropLast()), keys: TSIGTests.keys, now: 1_000_000) == .malformed)
        var plain = DNSMessage()
        plain.questions = [.init(name: DNSName("example.test.")!, type: .axfr)]
        #expect(TSIG.verify(plain.encode(), keys: TSIGTests.keys, now: 0) == .unsigned)
    }

    @Test func aTransfersMessagesChainTheirMACs() throws {
        let query = TSIGTests.signedQuery()
        guard case .valid(let key, let requestMAC, _) = TSIG.verify(query, keys: TSIGTests.keys, now: 1_000_000) else {
            Issue.record("a signed query does not verify")
            return
        }
        let zone = try ZoneTransferTests.zone("$TTL 60\n@ SOA ns hm 5 1 1 1 30\n" + (0..<3000).map { "h\($0) A 192.0.2.1" }.joined(separator: "\n") + "\n")
        var transfer = ZoneTransfer(zone: zone, id: 0x1234, question: .init(name: zone.origin, type: .axfr),
                                    signer: TSIGSigner(key: key, requestMAC: requestMAC, time: 1_000_000))
        var previous = requestMAC
        var index = 0
        while let bytes = transfer.next() {
            #expect(bytes.count <= ZoneTransfer.messageLimit)
            let (record, unsigned) = try #require(try TSIGRecord.split(bytes))
            let expected = MessageAuthentication.mac(.sha256, key: key.secret,
                                                     [[UInt8(previous.count >> 8), UInt8(previous.count & 0xFF)] + previous, unsigned,
                                                      record.variables(timersOnly: index > 0)])
            #expect(expected == record.mac, "message \(index)")
            previous = record.mac
            index += 1
        }
        #expect(index > 1)
    }
}

extension TSIG.Verdict {
    var failure: TSIGRecord.Failure? {
        if case .failed(let failure, _, _) = self { return failure }
        return nil
    }
}
