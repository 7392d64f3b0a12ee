import PropertyBased
import Testing
@testable import DNSService

/// The encoder keeps to its limit whatever it is given, and what it writes reads back.
@Suite struct DNSEncodeLimitTests {
    static let limits = [512, 1232, 4096, DNSMessage.maxSize]
    let owner = DNSName("host.example.test.")!

    func response(_ answers: [ResourceRecord], question: DNSName? = nil) -> DNSMessage {
        var message = DNSMessage()
        message.isResponse = true
        message.questions = [.init(name: question ?? owner, type: .any)]
        message.answers = answers
        return message
    }

    @Test func generatedMessagesKeepToEveryLimitAndReadBack() async {
        var roundTripped = 0
        await propertyCheck(count: 200, input: MessageRecipe.messages, Gen<Int>.value(in: 0...70_000)) { message, random in
            let whole = message.encode()
            let roundTrips = (try? DNSMessage.decode(whole)) == message
            if roundTrips { roundTripped += 1 }
            for limit in DNSEncodeLimitTests.limits + [random] {
                let bytes = message.encode(maxSize: limit)
                let effective = min(max(limit, 512), DNSMessage.maxSize)
                #expect(bytes.count <= effective)
                guard let decoded = try? DNSMessage.decode(bytes) else {
                    Issue.record("the encoding at \(limit) does not decode")
                    continue
                }
                #expect(message.questions.starts(with: decoded.questions))
                #expect(message.answers.starts(with: decoded.answers))
                #expect(message.additional.starts(with: decoded.additional))
                if roundTrips && whole.count <= effective {
                    #expect(decoded == message, "fits in \(effective) but does not round trip")
                } else {
                    #expect(decoded.truncated || decoded.additional.count < message.additional.count)
                }
            }
        }
        #expect(roundTripped > 100, "most generated messages fit in 65535 octets and must round trip")
    }

    @Test func decodedBytesReencodeWithinTheLimit() async {
        // What the decoder accepts from the wire, the encoder can always write again.
        await propertyCheck(count: 200, input: MessageRecipe.messages, Gen<UInt8>.value(in: 0...255).array(of: 1...8)) { message, noise in
            var bytes = message.encode()
            for (index, value) in noise.enumerated() where !bytes.isEmpty {
                bytes[(Int(value) * 131 + index * 977) % bytes.count] ^= value
            }
            guard let decoded = try? DNSMessage.decode(bytes) else { return }
            for limit in DNSEncodeLimitTests.limits {
                let again = decoded.encode(maxSize: limit)
                #expect(again.count <= limit)
                #expect((try? DNSMessage.decode(again)) != nil)
            }
        }
    }

    @Test func theHostileQuestionsCannotAllBeEchoed() throws {
        let hostile = HostileQueries.questionsIntoLabels()
        #expect(hostile.count > 22_000 && hostile.count <= 23_000)
        let decoded = try DNSMessage.decode(hostile)
        #expect(decoded.questions.count > 1000)
        var echo = decoded
        echo.isResponse = true
        for limit in DNSEncodeLimitTests.limits {
            let echoed = echo.encode(maxSize: limit)
            #expect(echoed.count <= limit)
            #expect(echoed[2] & 0x02 != 0, "the questions alone pass 65535 octets: TC")
            #expect(try DNSMessage.decode(echoed).questions.count < decoded.questions.count)
        }
    }

    @Test func whatTheWireCannotCarryIsLeftOutNotTrapped() throws {
        let long = [UInt8](repeating: UInt8(ascii: "a"), count: 64)
        let huge = [UInt8](repeating: 7, count: 300)
        let cases: [(String, RData, RRType)] = [
            ("a label of 64 octets", .ns(DNSName(labels: [long])), .ns),
            ("an empty label", .cname(DNSName(labels: [Array("a".utf8), [], Array("b".utf8)])), .cname),
            ("a name of 257 octets", .ptr(DNSName(labels: Array(repeating: Array(long.prefix(63)), count: 4))), .ptr),
            ("a character-string of 300 octets", .txt([huge]), .txt),
            ("no character-string", .txt([]), .txt),
            ("a CAA tag of 300 octets", .caa(flags: 0, tag: huge, value: []), .caa),
            ("an A of 5 octets", .a([1, 2, 3, 4, 5]), .a),
            ("RDATA of 70000 octets", .unknown([UInt8](repeating: 1, count: 70_000)), RRType(rawValue: 65280)),
        ]
        let good = ResourceRecord(name: owner, type: .a, ttl: 60, data: .a([192, 0, 2, 1]))
        for (what, data, type) in cases {
            let bad = ResourceRecord(name: DNSName("bad.example.test.")!, type: type, ttl: 60, data: data)
            let answer = try DNSMessage.decode(response([good, bad]).encode())
            #expect(answer.answers == [good], "\(what)")
            #expect(answer.truncated, "\(what)")
            var additional = response([good])
            additional.additional = [bad, good]
            let decoded = try DNSMessage.decode(additional.encode())
            #expect(decoded.additional.isEmpty && !decoded.truncated, "\(what): the additional section stops there")
        }
        var badQuestion = response([good], question: DNSName(labels: [long]))
        #expect(try DNSMessage.decode(badQuestion.encode()).questions.isEmpty)
        badQuestion.questions.append(.init(name: owner, type: .a))
        let decoded = try DNSMessage.decode(badQuestion.encode())
        #expect(decoded.questions.isEmpty && decoded.answers.isEmpty && decoded.truncated)
    }

    @Test func optionsThatCannotFitAreDroppedWithTC() throws {
        var message = response([])
        message.edns = .init(udpSize: 1232, options: [UInt8](repeating: 0, count: 70_000))
        let bytes = message.encode()
        #expect(bytes.count <= DNSMessage.maxSize)
        let decoded = try DNSMessage.decode(bytes)
        #expect(decoded.edns?.options == [] && decoded.truncated)
        message.edns?.options = [0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]
        #expect(try DNSMessage.decode(message.encode()) == message)
    }

    @Test func namesPastTheFirst16KiBAreNotPointedAt() throws {
        // 200 TXT records of ~100 octets put later names past offset 0x3FFF; each name must
        // still read back (a pointer there would need a 15th bit).
        let filler = (0..<200).map { ResourceRecord(name: DNSName("f\($0).example.test.")!, type: .txt, ttl: 60,
                                                   data: .txt([[UInt8](repeating: 0x61, count: 90)])) }
        let late = (0..<20).map { ResourceRecord(name: DNSName("late\($0 % 4).example.test.")!, type: .a, ttl: 60, data: .a([192, 0, 2, UInt8($0)])) }
        let message = response(filler + late)
        let bytes = message.encode()
        #expect(bytes.count > 0x4000)
        #expect(try DNSMessage.decode(bytes) == message)
    }
}
