import Logging

/// swift-log's backend for the server: `TIME LEVEL message key=value...` lines through a
/// `LogOutput`, access lines batched and notices written at once.
public struct LineLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let output: LogOutput

    public init(level: Logger.Level, output: LogOutput = .standardOutput) {
        logLevel = level
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var text = event.message.description
        if !metadata.isEmpty || event.metadata?.isEmpty == false {
            let fields = metadata.merging(event.metadata ?? [:]) { $1 }
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
                text += " \(key)=\(value)"
            }
        }
        if let error = event.error { text += " error=\(error)" }
        output.write(level: event.level.rawValue, text, immediately: event.level >= .notice)
    }
}
