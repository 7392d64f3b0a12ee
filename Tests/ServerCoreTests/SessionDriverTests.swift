import Logging
import ServerCore
import Synchronization
import Testing

/// The driver with a toy line protocol on the test double: steps only while output has
/// room, offloads hold input in order, waits that do not hold let later lines through,
/// input past the limit pauses reading, access lines end in a duration.
@Suite struct SessionDriverTests {
    struct Echo: ConnectionSession {
        enum Completion: Sendable { case slow(String), upstream(String) }
        var framer = LineFramer(maxLength: 64)
        /// Set by `gate`: no step until its answer comes.
        var gated = false

        mutating func start() -> Actions { [.write(Array("hi\n".utf8)), .idleTimeout(30)] }
        mutating func receive(_ bytes: UnsafeRawBufferPointer) { framer.append(bytes) }
        var bufferedBytes: Int { framer.bufferedBytes }

        mutating func step() -> Actions? {
            if gated { return nil }
            switch framer.next() {
            case .needMore: return nil
            case .tooLong: return [.write(Array("too long\n".utf8))]
            case .line(let bytes):
                let line = String(decoding: bytes, as: UTF8.self)
                if line.hasPrefix("slow ") {
                    let word = String(line.dropFirst(5))
                    return [.offload({ .slow(word.uppercased()) }, busy: Array("busy\n".utf8))]
                }
                if line.hasPrefix("gate ") {
                    gated = true
                    let word = String(line.dropFirst(5))
                    return [.wait(holdsInput: false) { done in done(.upstream(word)) }]
                }
                if line.hasPrefix("ask ") {
                    let word = String(line.dropFirst(4))
                    return [.wait(holdsInput: false) { done in done(.upstream(word)) }]
                }
                if line == "bye" { return [.write(Array("bye\n".utf8)), .closeAfterFlush(lingering: false)] }
                return [.write(Array("\(line)\n".utf8)), .log(.access, "\"\(line)\"")]
            }
        }

        mutating func complete(_ completion: Completion) -> Actions {
            switch completion {
            case .slow(let word): return [.write(Array("\(word)\n".utf8))]
            case .upstream(let word):
                gated = false
                return [.write(Array("answer \(word)\n".utf8))]
            }
        }
    }

    typealias Lines = CapturedLines

    func driver(_ pool: BlockingPool = BlockingPool(lanes: 1, capacity: 4)) -> (TestConnection, Lines) {
        let lines = Lines()
        let logger = Logger(label: "test") { _ in lines }
        let connection = TestConnection(handler: SessionDriver(Echo(), .init(service: "echo", logger: logger, pool: pool, inputLimit: 16)))
        connection.open()
        return (connection, lines)
    }

    @Test func pipelinedLinesStopAtTheOutputLimit() {
        let (connection, lines) = driver()
        #expect(connection.takeText() == "hi\n")
        #expect(connection.idleTimeout == 30)
        connection.outputLimit = 4
        connection.peerReading = false
        connection.receive(Array("a1\nb2\nc3\n".utf8))
        #expect(connection.pendingOutputBytes == 6, "two answers, then the limit")
        connection.peerReading = true
        #expect(connection.takeText() == "a1\nb2\nc3\n")
        let logged = lines.lines.withLock { $0 }
        #expect(logged.count == 3)
        #expect(logged.first?.hasPrefix("echo 127.0.0.1:40000 -> 127.0.0.1:1000 \"a1\" ") == true)
        #expect(logged.first?.hasSuffix("ms") == true)
    }

    @Test func anOffloadHoldsLaterLinesInOrder() {
        let (connection, _) = driver()
        _ = connection.takeOutput()
        connection.receive(Array("slow x\nafter\n".utf8))
        #expect(connection.takeText() == "", "nothing after the offload until it completes")
        #expect(connection.runPending(waitingUpTo: 5))
        #expect(connection.takeText() == "X\nafter\n")
    }

    @Test func aWaitThatDoesNotHoldLetsLaterLinesThrough() {
        let (connection, _) = driver()
        _ = connection.takeOutput()
        connection.receive(Array("ask q\nnext\n".utf8))
        #expect(connection.takeText() == "next\n")
        #expect(connection.runPending() == 1)
        #expect(connection.takeText() == "answer q\n")
        // A session that holds its own input until a non-holding wait completes is run again then.
        connection.receive(Array("gate g\nlater\n".utf8))
        #expect(connection.takeText() == "")
        #expect(connection.runPending() == 1)
        #expect(connection.takeText() == "answer g\nlater\n")
    }

    @Test func aFullPoolIsBusyNotAThread() {
        let pool = BlockingPool(lanes: 1, capacity: 1)
        let gate = Mutex(false)
        #expect(pool.submit { while !gate.withLock({ $0 }) {} })
        let (connection, _) = driver(pool)
        _ = connection.takeOutput()
        connection.receive(Array("slow x\n".utf8))
        #expect(connection.takeText() == "busy\n")
        #expect(!connection.isOpen)
        gate.withLock { $0 = true }
    }

    @Test func inputPastTheLimitPausesReading() {
        let (connection, _) = driver()
        connection.receive(Array("slow x\n".utf8))
        connection.receive(Array("0123456789abcdefghij\n".utf8))
        #expect(connection.readingPaused)
        #expect(connection.runPending(waitingUpTo: 5))
        #expect(!connection.readingPaused)
        #expect(connection.takeText().hasSuffix("X\n0123456789abcdefghij\n"))
    }
}
