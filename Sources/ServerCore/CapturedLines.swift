import Logging
import Synchronization

/// A log handler that keeps every message, for tests of what a session logs (beside
/// `TestConnection`).
public final class CapturedLines: LogHandler, @unchecked Sendable {
    // `metadata` and `logLevel` are set, if at all, before the logger is used; the lines
    // themselves are written from any queue, under their lock.
    public let lines = Mutex<[String]>([])
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info

    public init() {}

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) { lines.withLock { $0.append("\(event.message)") } }

    public var all: [String] { lines.withLock { $0 } }
}
