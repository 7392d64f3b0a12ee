@testable import HTTPService

/// Feeds `chunks` to a fresh parser one after another, draining it after each, and returns
/// what it said: requests and the error that ends the conversation, without `.needMore`.
/// The same bytes must give the same answer however they are cut into chunks.
func parserEvents(_ chunks: [[UInt8]], limits: HTTPParserLimits = HTTPParserLimits()) -> [HTTPRequestParser.Event] {
    var parser = HTTPRequestParser(limits: limits)
    var events: [HTTPRequestParser.Event] = []
    for chunk in chunks {
        parser.append(chunk)
        while true {
            let event = parser.next()
            if event == .needMore { break }
            events.append(event)
            if case .error = event { return events }
        }
    }
    return events
}

/// `bytes` cut at `cuts` (positions, in any order; out of range or repeated ones ignored).
func split(_ bytes: [UInt8], at cuts: [Int]) -> [[UInt8]] {
    var chunks: [[UInt8]] = []
    var from = 0
    for cut in Set(cuts).sorted() where cut > 0 && cut < bytes.count {
        chunks.append(Array(bytes[from..<cut]))
        from = cut
    }
    chunks.append(Array(bytes[from...]))
    return chunks
}
