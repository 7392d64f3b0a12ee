import Glibc
import Logging
import Testing
@testable import ServerCore

/// Log lines: batched below notice, written at once from notice up, each with its UTC time.
@Suite struct LogOutputTests {
    func withPipe(batchLimit: Int = 64 * 1024, _ body: (LogOutput, () -> String) throws -> Void) rethrows {
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        defer { close(fds[0]); close(fds[1]) }
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
        try body(LogOutput(fd: fds[1], batchLimit: batchLimit)) {
            var buffer = [UInt8](repeating: 0, count: 65536)
            let n = read(fds[0], &buffer, buffer.count)
            return n > 0 ? String(decoding: buffer.prefix(n), as: UTF8.self) : ""
        }
    }

    @Test func accessLinesWaitNoticesDoNot() {
        withPipe { output, written in
            var logger = Logger(label: "test") { _ in LineLogHandler(level: .info, output: output) }
            logger.logLevel = .info
            logger.info("GET /a")
            #expect(written() == "")
            logger.notice("listening")
            let text = written()
            let lines = text.split(separator: "\n")
            #expect(lines.count == 2)
            #expect(lines.first?.hasSuffix("Z info GET /a") == true)
            #expect(lines.last?.hasSuffix("Z notice listening") == true)
            #expect(text.utf8.count > 20 && text.hasPrefix("20"))
        }
    }

    @Test func aFullBatchOrAFlushWrites() {
        withPipe { output, written in
            output.write(level: "info", "one", immediately: false)
            #expect(written() == "")
            output.flush()
            #expect(written().hasSuffix(" info one\n"))
        }
        withPipe(batchLimit: 40) { output, written in
            output.write(level: "info", "short", immediately: false)
            #expect(written() == "")
            output.write(level: "info", "long enough to fill the batch", immediately: false)
            #expect(written().split(separator: "\n").count == 2)
        }
    }

    @Test func theTimerWritesWithinAMoment() {
        withPipe { output, written in
            output.write(level: "info", "later", immediately: false)
            var text = ""
            for _ in 0..<50 where text.isEmpty {
                usleep(20_000)
                text = written()
            }
            #expect(text.hasSuffix(" info later\n"))
        }
    }
}
