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
    /// How long a connection idle at a drain is kept for a request already on its way
    /// (answered with `Connection: close`): closed at once, it races a client that sends
    /// its next request as soon as an answer is in, as wrk does, and that request fails.
    public var drainIdleTimeout: Double = 1
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
    /// Counters and the duration histogram (nil: none).
    public var metrics: HTTPMetrics?
    /// HTTPS: TLS from the first byte, with this service's certificates (ALPN `http/1.1`);
    /// nil: plain HTTP.
    public var tls: TLSContextHolder?
    /// Strict-Transport-Security `max-age` on HTTPS responses (nil: none).
    public var hstsMaxAge: Int?
    /// Plain HTTP only: every request gets a 301 to `https://host[:port]/target` on this port.
    public var redirectToHTTPS: BoundPort?

    public init(files: StaticFiles, logger: Logger) {
        self.files = files
        self.logger = logger
    }

/// The bound, per connection, whatever a peer pipelines without reading: the output queue
/// is checked before each step (the driver's `outputLimit` is `highWater`), so it holds less than `highWater` plus one answer. An
/// answer keeps in memory its head and at most one body copy: up to `inlineFileLimit` read
/// for it, a file kept whole by the open-file cache (`keepInMemory`), a gzip-cache entry
/// (`GzipCache.fileLimit` before compression) or one compressed chunk; larger files go by
/// sendfile and hold a descriptor. Unanswered requests wait in the parser, and reading
/// stops past `maxHead` of them, so they are at most that plus one read (64 KiB), in a
/// buffer at most twice that. With the defaults: under 256 KiB + 1 MiB of output and
/// 200 KiB of input (measured, 32 pipelined GETs of a 20 KiB file with nothing read:
/// 263 KiB queued; of a 3 MiB file: one answer).
    public var service: TCPService {
        let shared = HTTPSession.Shared(self)
        let logger = logger
        var service = TCPService(
            busyReply: Array("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 1\r\nConnection: close\r\n\r\n".utf8),
            perAddress: perAddress, refused: { id, why in logger.notice("\(shared.driver.service) \(id) \(why)") },
            tls: tls, plaintextReply: tls == nil ? [] : HTTPConfiguration.plainRequestOnTLSPort,
            makeHandler: { id in SessionDriver(HTTPSession(shared, id: id), shared.driver) }
        )
        service.observer = metrics?.connections
        return service
    }

    /// nginx's answer to plain HTTP sent to an HTTPS port, in plaintext, before the close.
    public static let plainRequestOnTLSPort: [UInt8] = {
        let page = Array("<html><head><title>400 Bad Request</title></head><body><h1>400 Bad Request</h1>The plain HTTP request was sent to HTTPS port<hr>appserver</body></html>\n".utf8)
        return Array("HTTP/1.1 400 Bad Request\r\nServer: appserver\r\nContent-Type: text/html\r\nContent-Length: \(page.count)\r\nConnection: close\r\n\r\n".utf8) + page
    }()
}
