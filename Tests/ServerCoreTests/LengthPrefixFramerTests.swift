import PropertyBased
import Testing
@testable import ServerCore

@Suite struct LengthPrefixFramerTests {
    static let limit = 500

    /// Every event for `chunks` fed in turn, taking all there is after each.
    static func events(_ chunks: [ArraySlice<UInt8>], maxLength: Int = limit) -> [LengthPrefixFramer.Event] {
        var framer = LengthPrefixFramer(maxLength: maxLength)
        var events: [LengthPrefixFramer.Event] = []
        for chunk in chunks {
            framer.append(Array(chunk))
            while true {
                let event = framer.next()
                if event == .needMore { break }
                events.append(event)
            }
        }
        #expect(framer.bufferedBytes == 0 && !framer.hasMessage)
        return events
    }

    /// Messages of the given lengths, each with its own bytes.
    static func messages(_ lengths: [Int]) -> [[UInt8]] {
        lengths.enumerated().map { index, length in (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) } }
    }

    /// `bytes` cut at the given points (taken modulo its length, sorted).
    static func split(_ bytes: [UInt8], at points: [Int]) -> [ArraySlice<UInt8>] {
        var chunks: [ArraySlice<UInt8>] = []
        var start = 0
        for cut in Set(points.map { $0 % (bytes.count + 1) }).sorted() where cut > start {
            chunks.append(bytes[start..<cut])
            start = cut
        }
        chunks.append(bytes[start...])
        return chunks
    }

    @Test func sameMessagesWhateverTheSplit() async {
        let lengths = Gen<Int>.value(in: 0...(2 * LengthPrefixFramerTests.limit)).array(of: 0...16)
        let points = Gen<Int>.value(in: 0...100_000).array(of: 0...40)
        await propertyCheck(count: 100, input: lengths, points) { lengths, points in
            let messages = LengthPrefixFramerTests.messages(lengths)
            let expected = messages.map { $0.count > LengthPrefixFramerTests.limit ? .tooLong : LengthPrefixFramer.Event.message($0) }
            let bytes = Array(messages.compactMap(LengthPrefixFramer.frame).joined())
            #expect(LengthPrefixFramerTests.events([bytes[...]]) == expected)
            #expect(LengthPrefixFramerTests.events(bytes.indices.map { bytes[$0...$0] }) == expected)
            #expect(LengthPrefixFramerTests.events(LengthPrefixFramerTests.split(bytes, at: points)) == expected)
        }
    }

    @Test func framingEdges() {
        var framer = LengthPrefixFramer()
        framer.append([0x00])
        #expect(framer.next() == .needMore && !framer.hasMessage)
        framer.append([0x02, 0xAA])
        #expect(framer.next() == .needMore)
        framer.append([0xBB, 0x00])
        #expect(framer.hasMessage)
        #expect(framer.next() == .message([0xAA, 0xBB]))
        #expect(framer.next() == .needMore && framer.bufferedBytes == 1)
        framer.append([0x00])
        #expect(framer.next() == .message([]), "an empty message is a message")
        let largest: [UInt8] = [0xFF, 0xFF] + Array(repeating: 7, count: 65_535)
        #expect(LengthPrefixFramerTests.events([largest[...]], maxLength: 65_535) == [.message(Array(largest.dropFirst(2)))])
    }

    @Test func aTooLongMessageIsReportedAtItsPrefixAndDroppedAsItArrives() {
        var framer = LengthPrefixFramer(maxLength: 4)
        framer.append([0x00, 0x0A, 1, 2, 3])
        #expect(framer.hasMessage)
        #expect(framer.next() == .tooLong)
        #expect(framer.bufferedBytes == 0)
        framer.append([4, 5, 6, 7, 8, 9, 10, 0x00, 0x01])
        #expect(framer.bufferedBytes == 2, "the rest of the long one is never held")
        framer.append([0x42])
        #expect(framer.next() == .message([0x42]))
    }

    @Test func framesUpTo65535Octets() {
        #expect(LengthPrefixFramer.frame([]) == [0, 0])
        #expect(LengthPrefixFramer.frame([1, 2, 3]) == [0, 3, 1, 2, 3])
        #expect(LengthPrefixFramer.frame(Array(repeating: 1, count: 65_535))?.prefix(2) == [0xFF, 0xFF])
        #expect(LengthPrefixFramer.frame(Array(repeating: 1, count: 65_536)) == nil, "two bytes cannot say it")
    }

    @Test func reachesTheEndOfALongPipelineInOnePass() {
        // Taking each message by removing it from the front of the buffer was quadratic
        // (40,000 queries: some 20 GB moved).
        let framed = LengthPrefixFramer.frame(Array(repeating: 0x5A, count: 30))!
        var framer = LengthPrefixFramer()
        framer.append(Array(Array(repeating: framed, count: 40_000).joined()))
        var taken = 0
        while case .message = framer.next() { taken += 1 }
        #expect(taken == 40_000 && framer.bufferedBytes == 0)
    }
}
