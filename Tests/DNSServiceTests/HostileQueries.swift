/// Queries crafted to hurt, as exact bytes.
enum HostileQueries {
    /// About `size` bytes (issue 11: 23 KB) of questions that are compression pointers into
    /// the middle of earlier questions' labels. Each block is a question whose name is three
    /// 63-octet labels of 0x3F (and one octet unique to the block), then a question of one
    /// label of zeros; a pointer to offset 6...62 of a block reads three other 63-octet
    /// labels ending in the zeros. Every such name has its own last label, so no compression
    /// can shorten its echo: ~197 octets for each 6-octet question, about 380 KB for 23 KB.
    /// A FORMERR that echoed every question could not be framed over TCP (the length prefix
    /// trapped) nor sent over UDP.
    static func questionsIntoLabels(size: Int = 23_000) -> [UInt8] {
        var bytes: [UInt8] = [0xBE, 0xEF, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]
        let txtIN: [UInt8] = [0x00, 0x10, 0x00, 0x01]
        var questions = 0
        var targets: [Int] = []
        // Blocks fill half the query, the pointers the rest; pointers hold 14 bits, so
        // every block lies below 0x3FFF.
        while bytes.count + 266 <= min(0x3FFF, size / 2) {
            let start = bytes.count
            var labels = [UInt8](repeating: 0x3F, count: 192)
            labels[191] = UInt8(0x80 + questions / 2)  // not a letter: no two blocks are equal even ignoring case
            bytes += labels + [0] + txtIN
            bytes += [0x3F] + [UInt8](repeating: 0, count: 63) + [0] + txtIN
            questions += 2
            targets += (6...62).map { start + $0 }
        }
        var next = 0
        while bytes.count + 6 <= size {
            let target = targets[next % targets.count]
            bytes += [0xC0 | UInt8(target >> 8), UInt8(truncatingIfNeeded: target)] + txtIN
            questions += 1
            next += 1
        }
        bytes[4] = UInt8(questions >> 8)
        bytes[5] = UInt8(truncatingIfNeeded: questions)
        return bytes
    }
}
