import Logging
import ServerCore

/// Everything the HTTP service needs, built by the command (or a test) and passed in.
public struct HTTPConfiguration: Sendable {
    public var files: StaticFiles
    public var logger: Logger
    public var limits = HTTPParserLimits()
    /// Time allowed for a request's whole head to arrive once it has begun (slowloris).
    public var headerTimeout: Double = 20
    /// How long an idle keep-alive connection is kept.
    public var keepAliveTimeout: Double = 60
    /// The level for files compressed on the fly (those over the cache's file limit).
    public var gzipLevel: Int32 = 5
    public var gzipCache = GzipCache()
    /// Smaller files are not worth compressing.
    public var gzipMinLength: Int64 = 256
    /// Files up to this size are read and sent with their head in one write.
    public var inlineFileLimit: Int64 = 32 * 1024
    /// Output queued past this waits for the peer before more is produced.
    public var highWater = 256 * 1024
    /// The registry's per-address cap (nil: none).
    public var perAddress: AddressLimit?

    public init(files: StaticFiles, logger: Logger) {
        self.files = files
        self.logger = logger
    }

    /// The registry's view of the service.
    public var service: TCPService {
        let shared = HTTPSession.Shared(self)
        let logger = logger
        return TCPService(
            busyReply: Array("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 1\r\nConnection: close\r\n\r\n".utf8),
            perAddress: perAddress, refused: { id, why in logger.notice("http \(id) \(why)") },
            makeHandler: { id in HTTPHandler(shared, id: id) }
        )
    }
}
