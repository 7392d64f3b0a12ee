import Testing
@testable import ServerCore

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
