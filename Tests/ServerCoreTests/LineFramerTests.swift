import Testing
@testable import ServerCore
import PropertyBased

@Suite struct LineFramerTests {
    func lines(_ chunks: [String], max: Int = 512) -> [LineFramer.Event] {
        var framer = LineFramer(maxLength: max)
        var events: [LineFramer.Event] = []
        for chunk in chunks {
            framer.append(Array(chunk.utf8))
            while true {
                let event = framer.next()
                if event == .needMore { break }
                events.append(event)
            }
        }
        return events
    }

    @Test func splitsCRLFAndLFLines() {
        #expect(lines(["EHLO a\r\nNOOP\nQU", "IT\r\n"]) == [.line(Array("EHLO a".utf8)), .line(Array("NOOP".utf8)), .line(Array("QUIT".utf8))])
    }

    @Test func sameLinesWhateverTheSplit() {
        let text = "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"
        let whole = lines([text])
        for cut in 1..<text.utf8.count {
            let bytes = Array(text.utf8)
            let parts = [String(decoding: bytes[..<cut], as: UTF8.self), String(decoding: bytes[cut...], as: UTF8.self)]
            #expect(lines(parts) == whole)
        }
    }

    @Test func tooLongLinesAreReportedOnceAndSkipped() {
        let long = String(repeating: "x", count: 600)
        #expect(lines([long + "\r\nNOOP\r\n"], max: 512) == [.tooLong, .line(Array("NOOP".utf8))])
        #expect(lines([String(repeating: "y", count: 300), String(repeating: "y", count: 300), String(repeating: "y", count: 300), "\r\nNOOP\r\n"], max: 512)
                == [.tooLong, .line(Array("NOOP".utf8))])
        #expect(lines([String(repeating: "z", count: 510) + "\r\n"], max: 512) == [.line(Array(repeating: UInt8(ascii: "z"), count: 510))])
    }

    @Test func remainingBytesChangeHands() {
        var framer = LineFramer(maxLength: 512)
        framer.append(Array("DATA\r\nSubject: x\r\n".utf8))
        #expect(framer.next() == .line(Array("DATA".utf8)))
        #expect(framer.takeRemaining() == Array("Subject: x\r\n".utf8))
        #expect(framer.next() == .needMore)
    }
}

/// The same events whatever the packet boundaries: whole, byte by byte, or cut at random
/// points, with lines of every length around the limit and every kind of terminator.
@Suite struct LineFramerSplitProperty {
    static let limit = 32

    static func stream(_ lengths: [Int]) -> [UInt8] {
        var bytes: [UInt8] = []
        for (index, length) in lengths.enumerated() {
            bytes += Array(repeating: UInt8(ascii: "a") + UInt8(index % 26), count: length)
            switch length % 4 {
            case 0: bytes += [0x0D, 0x0A]
            case 1: bytes += [0x0A]
            case 2: bytes += [0x0D]
            default: bytes += [0x0D, 0x0D, 0x0A]
            }
        }
        return bytes
    }

    static func events(_ bytes: [UInt8], cuts: [Int]) -> [LineFramer.Event] {
        var framer = LineFramer(maxLength: limit)
        var events: [LineFramer.Event] = []
        var rest = bytes[...]
        var sizes = cuts.makeIterator()
        while !rest.isEmpty {
            let size = sizes.next() ?? rest.count
            framer.append(Array(rest.prefix(size)))
            rest = rest.dropFirst(size)
            while case let event = framer.next(), event != .needMore { events.append(event) }
        }
        return events
    }

    @Test func sameEventsWhateverTheSplit() async {
        await propertyCheck(input: Gen.int(in: 0...70).array(of: 1...12), Gen.int(in: 1...80).array(of: 0...12)) { lengths, cuts in
            let bytes = Self.stream(lengths)
            let whole = Self.events(bytes, cuts: [])
            #expect(Self.events(bytes, cuts: Array(repeating: 1, count: bytes.count)) == whole)
            #expect(Self.events(bytes, cuts: cuts) == whole)
            for case .line(let line) in whole { #expect(line.count + 1 <= Self.limit) }
        }
    }
}
