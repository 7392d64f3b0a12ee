import Logging
import ServerCore
import Synchronization
import Testing

/// Access-line timing on the test double with an injected clock: an exchange runs from the
/// read that brought its first byte (or from `.beginExchange`) to its access line, across
/// reads, streamed steps and completions that come out of order.
@Suite struct SessionDriverTimingTests {
    /// `log X`: an answer and its access line; `hold X` / `later X`: answered on completion,
    /// holding input or not; `stream`: three chunks a step each, then the access line;
    /// `begin`: the exchange starts here; anything else: echoed, untimed.
    struct Timed: ConnectionSession {
        enum Completion: Sendable { case answer(String) }
        var framer = LineFramer(maxLength: 64)
        var chunksLeft = 0

        mutating func start() -> Actions { [] }
        mutating func receive(_ bytes: UnsafeRawBufferPointer) { framer.append(bytes) }
        var bufferedBytes: Int { framer.bufferedBytes }

        mutating func step() -> Actions? {
            if chunksLeft > 0 {
                chunksLeft -= 1
                return chunksLeft > 0 ? [.write([0x2E])] : [.write([0x0A]), .log(.access, "stream")]
            }
            guard case .line(let bytes) = framer.next() else { return nil }
            let line = String(decoding: bytes, as: UTF8.self)
            let verb = line.prefix { $0 != " " }
            let word = String(line.dropFirst(verb.count + 1))
            switch verb {
            case "log": return [.write(Array("\(word)\n".utf8)), .log(.access, word)]
            case "hold": return [.wait(holdsInput: true) { done in done(.answer(word)) }]
            case "later": return [.wait(holdsInput: false) { done in done(.answer(word)) }]
            case "stream":
                chunksLeft = 3
                return []
            case "begin": return [.beginExchange]
            default: return [.write(Array("\(line)\n".utf8))]
            }
        }

        mutating func complete(_ completion: Completion) -> Actions {
            guard case .answer(let word) = completion else { return [] }
            return [.write(Array("\(word)\n".utf8)), .log(.access, word)]
        }
    }

    final class Clock: Sendable {
        let state = Mutex((now: UInt64(1), reads: 0))
        func read() -> UInt64 { state.withLock { $0.reads += 1; return $0.now } }
        func at(milliseconds: UInt64) { state.withLock { $0.now = milliseconds * 1_000_000 } }
        var reads: Int { state.withLock { $0.reads } }
    }

    func driver(level: Logger.Level = .info) -> (TestConnection, CapturedLines, Clock) {
        let lines = CapturedLines(), clock = Clock()
        var logger = Logger(label: "test") { _ in lines }
        logger.logLevel = level
        let driver = SessionDriver(Timed(), .init(service: "t", logger: logger, clock: { clock.read() }))
        let connection = TestConnection(handler: driver)
        connection.open()
        return (connection, lines, clock)
    }

    /// `word` and duration of each access line, in order.
    func timings(_ lines: CapturedLines) -> [String] {
        lines.lines.withLock { $0.map { $0.split(separator: " ").suffix(2).joined(separator: " ") } }
    }

    @Test func aRequestSplitAcrossReadsIsTimedFromItsFirstByte() {
        let (connection, lines, clock) = driver()
        clock.at(milliseconds: 10)
        connection.receive(Array("lo".utf8))
        clock.at(milliseconds: 13)
        connection.receive(Array("g a\n".utf8))
        clock.at(milliseconds: 20)
        connection.receive(Array("log b\n".utf8))
        #expect(timings(lines) == ["a 3.0ms", "b 0.0ms"])
    }

    @Test func anExchangeBegunExplicitlyIsTimedFromThatStep() {
        let (connection, lines, clock) = driver()
        clock.at(milliseconds: 10)
        connection.receive(Array("hello\n".utf8))
        clock.at(milliseconds: 14)
        connection.receive(Array("begin\n".utf8))
        clock.at(milliseconds: 15)
        connection.receive(Array("body\n".utf8))
        clock.at(milliseconds: 17)
        connection.receive(Array("log mail\n".utf8))
        #expect(timings(lines) == ["mail 3.0ms"], "from `begin`, not from `hello` nor the last line")
    }

    @Test func aStreamedAnswerIsTimedFromItsRequestNotItsLastChunk() {
        let (connection, lines, clock) = driver()
        connection.outputLimit = 1
        connection.peerReading = false
        clock.at(milliseconds: 10)
        connection.receive(Array("stream\n".utf8))
        #expect(lines.lines.withLock { $0.isEmpty }, "the peer has not read the first chunk")
        clock.at(milliseconds: 16)
        connection.peerReading = true
        #expect(connection.takeText() == "..\n")
        #expect(timings(lines) == ["stream 6.0ms"])
    }

    @Test func completionsOutOfOrderAreEachTimedFromTheirOwnRequest() {
        let (connection, lines, clock) = driver()
        clock.at(milliseconds: 10)
        connection.receive(Array("later a\n".utf8))
        clock.at(milliseconds: 14)
        connection.receive(Array("later b\nlog c\n".utf8))
        clock.at(milliseconds: 19)
        #expect(connection.runPending() == 2)
        #expect(timings(lines) == ["c 0.0ms", "a 9.0ms", "b 5.0ms"])
    }

    /// Pipelined input counts from the end of the exchange it waited behind, as nginx times it.
    @Test func pipelinedInputCountsFromThePreviousExchangesEnd() {
        let (connection, lines, clock) = driver()
        clock.at(milliseconds: 10)
        connection.receive(Array("hold a\nlog b\n".utf8))
        clock.at(milliseconds: 12)
        #expect(connection.runPending() == 1)
        #expect(timings(lines) == ["a 2.0ms", "b 0.0ms"])
    }

    @Test func withoutAccessLinesTheClockIsNotRead() {
        let (connection, lines, clock) = driver(level: .notice)
        connection.receive(Array("log a\nlater b\n".utf8))
        connection.receive(Array("log c\n".utf8))
        connection.runPending()
        #expect(connection.takeText() == "a\nc\nb\n")
        #expect(lines.lines.withLock { $0.isEmpty })
        #expect(clock.reads == 0)
    }

    /// The HTTP keep-alive case: one read, one answer: one clock read for its start, one for its end.
    @Test func oneRequestPerReadCostsTwoClockReads() {
        let (connection, _, clock) = driver()
        for _ in 0..<10 { connection.receive(Array("log a\n".utf8)) }
        #expect(clock.reads == 20)
    }
}
