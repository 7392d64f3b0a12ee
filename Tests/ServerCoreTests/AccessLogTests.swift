import Glibc
import Logging
import Synchronization
import Testing
@testable import ServerCore

/// Access lines as bytes: the same line, text or JSON, as swift-log's path through
/// `LineLogHandler` writes for the same message; addresses as `SocketAddress` prints them.
@Suite struct AccessLogTests {
    static let id = ConnectionID(local: SocketAddress(ip: IPAddress("192.0.2.1")!, port: 53),
                                 remote: SocketAddress(ip: IPAddress("2001:db8::7")!, port: 40000))

    /// The lines written through `output` by `body`, once flushed, without their times.
    func lines(_ format: LogOutput.Format, level: Logger.Level = .info, _ body: (Logger) -> Void) throws -> [String] {
        let path = "/tmp/appserver-accesslog-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(path) }
        let output = try #require(LogOutput.open(path: path, format: format))
        var logger = Logger(label: "test") { _ in LineLogHandler(level: level, output: output) }
        logger.logLevel = level
        body(logger)
        output.flush()
        let text = String(decoding: LocalFiles.read(path) ?? [], as: UTF8.self)
        return text.split(separator: "\n").map { line in
            // `2026-01-02T03:04:05Z ` or `{"time":"2026-01-02T03:04:05Z",`: the rest is compared.
            String(line.drop { $0 != "Z" }.dropFirst())
        }
    }

    @Test(arguments: [LogOutput.Format.text, .json])
    func aLineIsTheOneSwiftLogWouldWrite(_ format: LogOutput.Format) throws {
        let text = #"udp "a\x22b. A" NOERROR 1 45"#
        let written = try lines(format) { logger in
            let access = AccessLog(logger: logger)
            access.write(prefix: access.prefix(service: "dns", AccessLogTests.id), text, nanos: 1_234_567)
            access.write(service: "dns", AccessLogTests.id, nanos: 12_345_678_900) { $0.append(contentsOf: text.utf8) }
            logger.info("dns \(AccessLogTests.id) \(text) 1.2ms")
            logger.info("dns \(AccessLogTests.id) \(text) 12345.6ms")
        }
        #expect(written.count == 4)
        #expect(written.first == written.dropFirst(2).first, "\(written)")
        #expect(written.dropFirst().first == written.last, "\(written)")
        if format == .text { #expect(written.first == #" info dns [2001:db8::7]:40000 -> 192.0.2.1:53 udp "a\x22b. A" NOERROR 1 45 1.2ms"#) }
    }

    @Test func belowInfoNothingIsWritten() throws {
        let written = try lines(.text, level: .notice) { logger in
            let access = AccessLog(logger: logger)
            #expect(!access.isEnabled)
            access.write(prefix: access.prefix(service: "http", AccessLogTests.id), "GET", nanos: 1)
        }
        #expect(written.isEmpty)
    }

    @Test func anotherHandlerGetsTheLineThroughInfo() {
        let captured = CapturedLines()
        let access = AccessLog(logger: Logger(label: "test") { _ in captured })
        access.write(prefix: access.prefix(service: "smtp", AccessLogTests.id), "250", nanos: 99_999)
        #expect(captured.all == ["smtp [2001:db8::7]:40000 -> 192.0.2.1:53 250 0.0ms"])
    }

    @Test(arguments: [
        "0.0.0.0", "255.255.255.255", "10.0.0.1", "::", "::1", "1::", "2001:db8::", "2001:db8::1", "2001:0:0:1::1",
        "2001:db8:0:0:1:0:0:1", "1:0:0:2:0:0:0:3", "fe80::1:2:3:4", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::ffff:192.0.2.1",
        "::192.0.2.1", "::ffff:0:1.2.3.4", "0:0:0:0:0:1:0:0", "abcd:ef01::", "::0.1.0.0", "1::ffff:1.2.3.4",
    ])
    func addressesAreWrittenAsInetNtopWritesThem(_ text: String) throws {
        let ip = try #require(IPAddress(text))
        var bytes: [UInt8] = []
        AddressText.append(ip, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == ip.description)
    }

    @Test func randomIPv6AddressesToo() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            // Mostly zero groups, so that runs of every length and place come up.
            let groups = (0..<8).map { _ in Bool.random(using: &generator) ? UInt64(0) : UInt64.random(in: 0...0xFFFF, using: &generator) }
            let hi = groups[0..<4].reduce(0) { $0 << 16 | $1 }, lo = groups[4..<8].reduce(0) { $0 << 16 | $1 }
            let ip = IPAddress.v6(hi.bigEndian, lo.bigEndian)
            var bytes: [UInt8] = []
            AddressText.append(ip, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == ip.description)
        }
    }

    @Test(arguments: [(UInt64(0), " 0.0ms"), (99_999, " 0.0ms"), (100_000, " 0.1ms"), (1_999_999, " 1.9ms"), (61_000_000_000, " 61000.0ms")])
    func durations(_ nanos: UInt64, _ text: String) {
        var bytes: [UInt8] = []
        AccessLog.appendDuration(nanos, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == text)
    }
}
