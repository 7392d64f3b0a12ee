import Logging

/// swift-log's backend for the server: `TIME LEVEL message key=value...` lines through a
/// `LogOutput`, access lines batched and notices written at once. In the output's `.json`
/// format each line is one object; a message that starts `service REMOTE -> LOCAL` (every
/// connection's line) has its 4-tuple as fields of their own.
public struct LineLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    let output: LogOutput

    public init(level: Logger.Level, output: LogOutput = .standardOutput) {
        logLevel = level
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let fields = metadata.merging(event.metadata ?? [:]) { $1 }.sorted { $0.key < $1.key }
        let text: String
        switch output.format {
        case .text:
            var line = event.message.description
            for (key, value) in fields { line += " \(key)=\(value)" }
            if let error = event.error { line += " error=\(error)" }
            text = line
        case .json:
            var pairs = LineLogHandler.jsonFields(event.message.description)
            for (key, value) in fields { pairs.append((key, JSONText.quoted("\(value)"))) }
            if let error = event.error { pairs.append(("error", JSONText.quoted("\(error)"))) }
            text = JSONText.fields(pairs)
        }
        output.write(level: event.level.rawValue, text, immediately: event.level >= .notice)
    }

    /// `service`, `remote_addr`, `remote_port`, `local_addr`, `local_port` and `message` (the
    /// rest) from a connection's line; only `message` from any other.
    static func jsonFields(_ message: String) -> [(String, String)] {
        let words = message.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: false)
        guard words.count >= 4, words[2] == "->", let remote = SocketAddress(String(words[1]), defaultPort: 0),
              let local = SocketAddress(String(words[3]), defaultPort: 0) else {
            return [("message", JSONText.quoted(message))]
        }
        return [("service", JSONText.quoted(words[0])),
                ("remote_addr", JSONText.quoted(remote.ip.description)), ("remote_port", String(remote.port)),
                ("local_addr", JSONText.quoted(local.ip.description)), ("local_port", String(local.port)),
                ("message", JSONText.quoted(words.count > 4 ? words[4] : ""))]
    }
}
