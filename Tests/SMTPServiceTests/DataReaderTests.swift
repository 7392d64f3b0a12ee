import Testing
@testable import SMTPService

@Suite struct DataReaderTests {
    /// Reads `input` split into `chunk`-byte pieces; returns what was kept and what followed the end.
    func read(_ input: [UInt8], chunk: Int = Int.max, limit: Int = 1 << 20) -> (body: [UInt8], rest: [UInt8]?, size: Int) {
        var reader = DataReader(limit: limit)
        var body: [UInt8] = []
        var offset = 0
        while offset < input.count {
            let piece = Array(input[offset..<min(input.count, offset + chunk)])
            if let end = piece.withUnsafeBytes({ reader.read($0, into: &body) }) {
                return (body, Array(input[(offset + end)...]), reader.size)
            }
            offset += piece.count
        }
        return (body, nil, reader.size)
    }

    func read(_ text: String, chunk: Int = Int.max) -> (body: String, rest: String?) {
        let result = read(Array(text.utf8), chunk: chunk)
        return (String(decoding: result.body, as: UTF8.self), result.rest.map { String(decoding: $0, as: UTF8.self) })
    }

    @Test func endsAtCRLFDotCRLFAndUnstuffs() {
        let result = read("Subject: x\r\n\r\n..leading dot\r\n.\r\nQUIT\r\n")
        #expect(result.body == "Subject: x\r\n\r\n.leading dot\r\n")
        #expect(result.rest == "QUIT\r\n")
    }

    @Test func emptyMessage() {
        #expect(read(".\r\n").body == "")
        #expect(read(".\r\n").rest == "")
    }

    @Test func sameResultAtEveryChunkSize() {
        let text = "A: b\r\n\r\n..x\r\nline\r\n...\r\n.\r\nNEXT"
        let whole = read(text)
        for chunk in 1...8 { #expect(read(text, chunk: chunk) == whole) }
    }

    @Test(arguments: [
        "body\n.\nMAIL FROM:<x@y>\r\n",
        "body\n.\r\nMAIL FROM:<x@y>\r\n",
        "body\r\n.\nMAIL FROM:<x@y>\r\n",
        "body\r.\r\nMAIL FROM:<x@y>\r\n",
        "body\r\n.\rMAIL FROM:<x@y>\r\n",
    ])
    func smugglingSequencesDoNotEndTheMessage(_ text: String) {
        let result = read(text)
        #expect(result.rest == nil, "ended early on \(text.debugDescription)")
        #expect(read(text + "\r\n.\r\n").rest == "")
    }

    @Test func bareLFIsStoredAsCRLFAndBareCRKept() {
        #expect(read("a\nb\rc\r\n.\r\n").body == "a\r\nb\rc\r\n")
    }

    @Test func eightBitClean() {
        let bytes: [UInt8] = [0xFF, 0x00, 0x80, 0x0D, 0x0A] + Array(".\r\n".utf8)
        #expect(read(bytes).body == [0xFF, 0x00, 0x80, 0x0D, 0x0A])
    }

    @Test func overTheLimitIsCountedNotKept() {
        let result = read(Array((String(repeating: "x", count: 100) + "\r\n.\r\n").utf8), limit: 10)
        #expect(result.body.count == 10)
        #expect(result.size == 102)
        #expect(result.rest == [])
    }
}
