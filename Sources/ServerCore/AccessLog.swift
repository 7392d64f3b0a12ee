import Logging

/// Access lines (one per request, query or transfer) written as bytes straight into the
/// log's pending buffer under its one lock: `TIME info service REMOTE -> LOCAL text N.Nms`,
/// or in the JSON format the fields `LineLogHandler` makes of such a line. No swift-log
/// event, message or String is made per line; notices and errors still go through
/// swift-log. A logger whose handler is not the server's own (a test's) gets each line
/// through `info`, the same text.
public struct AccessLog: Sendable {
    /// The logger's level lets `info` through (`--log-level`): only then are lines written.
    public let isEnabled: Bool
    private let output: LogOutput?
    private let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
        isEnabled = logger.logLevel <= .info
        output = (logger.handler as? LineLogHandler)?.output
    }

    /// `value` in decimal, for the text of a line built as bytes.
    public static func appendDecimal(_ value: UInt64, to line: inout [UInt8]) {
        AddressText.appendDecimal(value, to: &line)
    }

    /// What starts each line of one connection, made once for it.
    public func prefix(service: String, _ id: ConnectionID) -> [UInt8] {
        var prefix: [UInt8] = []
        prefix.reserveCapacity(80)
        AccessLog.appendHead(service, id, output?.format ?? .text, to: &prefix)
        return prefix
    }

    /// A line of the connection `prefix` was made for: `text`, then `nanos` as milliseconds.
    public func write(prefix: [UInt8], _ text: String, nanos: UInt64) {
        write(nanos: nanos, { line, _ in line.append(contentsOf: prefix) }, { $0.append(contentsOf: text.utf8) })
    }

    /// A line for one datagram of `id`, with the 4-tuple formatted in place.
    func write(service: String, _ id: ConnectionID, nanos: UInt64, _ message: (inout [UInt8]) -> Void) {
        write(nanos: nanos, { line, format in AccessLog.appendHead(service, id, format, to: &line) }, message)
    }

    private func write(nanos: UInt64, _ head: (inout [UInt8], LogOutput.Format) -> Void, _ message: (inout [UInt8]) -> Void) {
        guard isEnabled else { return }
        guard let output else {
            var line: [UInt8] = []
            head(&line, .text)
            message(&line)
            AccessLog.appendDuration(nanos, to: &line)
            logger.info("\(String(decoding: line, as: UTF8.self))")
            return
        }
        let format = output.format
        output.append(level: "info", immediately: false) { line in
            head(&line, format)
            let start = line.count
            message(&line)
            AccessLog.appendDuration(nanos, to: &line)
            if format == .json {
                AccessLog.escape(&line, from: start)
                line.append(0x22)
            }
        }
    }

    /// `service REMOTE -> LOCAL ` in text; in JSON the fields before the message and the
    /// message's opening quote.
    static func appendHead(_ service: String, _ id: ConnectionID, _ format: LogOutput.Format, to line: inout [UInt8]) {
        switch format {
        case .text:
            line.append(contentsOf: service.utf8)
            line.append(0x20)
            AddressText.append(id.remote, to: &line)
            line.append(contentsOf: " -> ".utf8)
            AddressText.append(id.local, to: &line)
            line.append(0x20)
        case .json:
            line.append(contentsOf: #""service":""#.utf8)
            JSONText.appendEscaped(service.utf8, to: &line)
            line.append(contentsOf: #"","remote_addr":""#.utf8)
            AddressText.append(id.remote.ip, to: &line)
            line.append(contentsOf: #"","remote_port":"#.utf8)
            AddressText.appendDecimal(UInt64(id.remote.port), to: &line)
            line.append(contentsOf: #","local_addr":""#.utf8)
            AddressText.append(id.local.ip, to: &line)
            line.append(contentsOf: #"","local_port":"#.utf8)
            AddressText.appendDecimal(UInt64(id.local.port), to: &line)
            line.append(contentsOf: #","message":""#.utf8)
        }
    }

    /// ` N.Nms`: tenths of a millisecond, cut rather than rounded.
    static func appendDuration(_ nanos: UInt64, to line: inout [UInt8]) {
        let micros = nanos / 1000
        line.append(0x20)
        AddressText.appendDecimal(micros / 1000, to: &line)
        line.append(0x2E)
        line.append(UInt8(truncatingIfNeeded: 0x30 + micros % 1000 / 100))
        line.append(contentsOf: "ms".utf8)
    }

    /// JSON-escapes the message written from `start`, in place; most need nothing.
    private static func escape(_ line: inout [UInt8], from start: Int) {
        guard line[start...].contains(where: { $0 == 0x22 || $0 == 0x5C || $0 < 0x20 }) else { return }
        let message = Array(line[start...])
        line.removeSubrange(start...)
        JSONText.appendEscaped(message, to: &line)
    }
}
