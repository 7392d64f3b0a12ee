import HTTPService

/// The HTTP request parser: the same bytes given whole, one byte a read, and cut at points
/// drawn from the input give the same events (requests and errors) and leave the parser in
/// the same state; a stream that ends between requests, pipelined after itself, gives
/// its events twice.
enum HTTPRequestTarget {
    static let target = FuzzTarget(name: "http", summary: "HTTP request parser: whole, split and pipelined, compared") {
        run
    }

    /// Small limits, so that inputs of a few hundred bytes reach every one of them.
    static let limits: HTTPParserLimits = {
        var limits = HTTPParserLimits()
        limits.maxRequestLine = 200
        limits.maxHeaderLine = 120
        limits.maxHead = 600
        limits.maxHeaders = 8
        limits.maxBody = 300
        return limits
    }()

    struct Outcome: Equatable {
        var events: [HTTPRequestParser.Event] = []
        var failed = false
        /// Where the parser stands after the last byte (compared only when nothing failed).
        var midRequest = false
        var buffered = 0
    }

    static func run(_ data: UnsafeRawBufferPointer) {
        let input = [UInt8](data)
        let whole = parse(input, Pieces.whole(input.count))
        let bytewise = parse(input, Pieces.bytes(input.count))
        require(bytewise == whole, "one byte a read differs from whole:\n\(bytewise)\n\(whole)")
        let cut = parse(input, Pieces.cuts(input))
        require(cut == whole, "cut at \(Pieces.cuts(input)) differs from whole:\n\(cut)\n\(whole)")
        if !whole.failed && !whole.midRequest {
            let twice = parse(input + input, Pieces.whole(2 * input.count))
            require(twice.events == whole.events + whole.events, "pipelined after itself:\n\(twice.events)\n\(whole.events)")
        }
    }

    static func parse(_ input: [UInt8], _ pieces: [Range<Int>]) -> Outcome {
        var parser = HTTPRequestParser(limits: limits)
        var outcome = Outcome()
        for piece in pieces {
            input[piece].withUnsafeBytes { parser.append($0) }
            while true {
                let event = parser.next()
                if event == .needMore { break }
                outcome.events.append(event)
                if case .error = event {
                    outcome.failed = true
                    return outcome
                }
            }
        }
        outcome.midRequest = parser.isMidRequest
        outcome.buffered = parser.bufferedBytes
        return outcome
    }
}
