import ServerCore
import Testing

/// The double behaves as a socket-backed connection does for the handler: output is what
/// the peer read, a peer that stops reading leaves output pending until it reads again,
/// `connectionWritable` comes once the queue is empty, a closing flush closes.
@Suite struct TestConnectionTests {
    /// Answers each line with "ok N"; stops at outputIsFull and resumes when writable.
    final class Lines: ConnectionHandler, @unchecked Sendable {
        var buffer: [UInt8] = []
        var answered = 0
        var closed: CloseReason?

        func connectionOpened(_ connection: any ConnectionContext) { connection.write(Array("hello\n".utf8)) }

        func connection(_ connection: any ConnectionContext, received bytes: UnsafeRawBufferPointer) {
            buffer += bytes
            answer(connection)
        }

        func connectionWritable(_ connection: any ConnectionContext) { answer(connection) }

        func connectionClosed(_ connection: any ConnectionContext, reason: CloseReason) { closed = reason }

        private func answer(_ connection: any ConnectionContext) {
            while let newline = buffer.firstIndex(of: 0x0A) {
                if connection.outputIsFull { return connection.notifyWhenWritable() }
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                answered += 1
                if line == "quit" { return connection.closeAfterFlush() }
                connection.write(Array("ok \(answered)\n".utf8))
            }
        }
    }

    @Test func pipelinedLinesAPeerThatStopsReadingAndAClose() {
        let handler = Lines()
        let connection = TestConnection(handler: handler)
        connection.outputLimit = 10
        connection.open()
        #expect(connection.takeText() == "hello\n")
        connection.peerReading = false
        #expect(connection.receive(Array("a\nb\nc\nd\n".utf8)))
        #expect(handler.answered == 2, "stopped at the output limit, the rest kept")
        #expect(connection.output.isEmpty && connection.pendingOutputBytes == 10)
        #expect(!connection.receive(Array("e\n".utf8)), "not read while output is full")
        connection.peerReading = true
        #expect(connection.takeText() == "ok 1\nok 2\nok 3\nok 4\n")
        #expect(connection.receive(Array("quit\n".utf8)))
        #expect(!connection.isOpen && handler.closed == .closedByServer)
    }

    @Test func asyncBodiesRunWhenAskedAndOffloadReturnsOnTheConnection() {
        let handler = Lines()
        let connection = TestConnection(handler: handler)
        connection.open()
        _ = connection.takeOutput()
        let pool = BlockingPool(lanes: 1, capacity: 1)
        #expect(connection.offload(to: pool, { 6 * 7 }) { context, value in context.write(Array("\(value)".utf8)) })
        #expect(connection.runPending(waitingUpTo: 5))
        #expect(connection.takeText() == "42")
    }
}
