import Dispatch
import Glibc
import Logging
import Testing
@testable import ServerCore

/// Log lines: batched below notice, sent to be written at once from notice up (by the log's
/// own queue, so within moments rather than before the call returns), each with its UTC time.
@Suite struct LogOutputTests {
    /// What the pipe has taken within `timeout` seconds, once it holds `lines` lines.
    func collect(_ written: () -> String, lines: Int, timeout: Double = 2) -> String {
        var text = ""
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeout * 1e9)
        while text.split(separator: "\n").count < lines && DispatchTime.now().uptimeNanoseconds < deadline {
            text += written()
            usleep(1000)
        }
        return text
    }

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
            let text = collect(written, lines: 2)
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
            #expect(collect(written, lines: 2).split(separator: "\n").count == 2)
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

    /// A pipe nobody reads: the log's queue stalls on it, the callers never do, and the
    /// access lines past the pending bound are counted as dropped; a notice still goes in.
    @Test func aStalledOutputDropsAccessLinesAndNeverBlocksTheCaller() {
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        defer { close(fds[0]); close(fds[1]) }
        let output = LogOutput(fd: fds[1], batchLimit: 1024, pendingLimit: 8 * 1024)
        let started = DispatchTime.now().uptimeNanoseconds
        for n in 0..<20_000 { output.write(level: "info", "GET /line-\(n) 200 1234", immediately: false) }
        output.write(level: "notice", "still here", immediately: true)
        #expect(DispatchTime.now().uptimeNanoseconds - started < 2_000_000_000)
        #expect(output.droppedLines > 10_000)
        // Unstall it: everything not dropped arrives, the notice last.
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
        var text: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = DispatchTime.now().uptimeNanoseconds + 5_000_000_000
        while !String(decoding: text.suffix(40), as: UTF8.self).contains("still here") && DispatchTime.now().uptimeNanoseconds < deadline {
            let n = read(fds[0], &buffer, buffer.count)
            if n > 0 { text += buffer.prefix(n) } else { usleep(1000) }
        }
        #expect(String(decoding: text, as: UTF8.self).hasSuffix(" notice still here\n"))
        output.flush()
    }

    @Test func reopeningWritesToTheNewFile() throws {
        let path = "/tmp/appserver-logoutput-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(path); unlink(path + ".1") }
        let output = try #require(LogOutput.open(path: path, format: .json))
        output.write(level: "info", #""message":"one""#, immediately: true)
        output.flush()
        #expect(rename(path, path + ".1") == 0)
        #expect(output.reopen(path: path))
        output.write(level: "info", #""message":"two""#, immediately: true)
        output.flush()
        let old = String(decoding: LocalFiles.read(path + ".1") ?? [], as: UTF8.self)
        let new = String(decoding: LocalFiles.read(path) ?? [], as: UTF8.self)
        #expect(old.hasPrefix(#"{"time":""#) && old.hasSuffix(#"","level":"info","message":"one"}"# + "\n"))
        #expect(new.hasSuffix(#""message":"two"}"# + "\n") && !new.contains("one"))
    }

    @Test func jsonLinesNameTheFourTuple() {
        let fields = LineLogHandler.jsonFields("http 127.0.0.1:5555 -> [::1]:80 \"GET /\" 200 5 0.1ms")
        #expect(JSONText.fields(fields) == #""service":"http","remote_addr":"127.0.0.1","remote_port":5555,"local_addr":"::1","local_port":80,"message":"\"GET /\" 200 5 0.1ms""#)
        #expect(JSONText.fields(LineLogHandler.jsonFields("shutting down")) == #""message":"shutting down""#)
        #expect(JSONText.quoted("a\u{1}\"\\") == #""a\u0001\"\\""#)
    }
}
