import CoreMetrics
import ServerCore

/// The HTTP service's counters, made once from the metrics API (the backend is the
/// command's): an answer costs two atomic adds and the duration's record.
public struct HTTPMetrics: Sendable {
    static let methods = ["GET", "HEAD", "other"]
    static let classes = ["1xx", "2xx", "3xx", "4xx", "5xx"]

    /// By method, then by status class.
    let requests: [[Counter]]
    let responseBytes: Counter
    let gzipCacheHits: Counter
    let gzipCacheSize: Gauge
    public let duration: Timer
    public let connections: ConnectionObserver

    /// Handles named `appserver_<service>_*`: `http`, or `https` (a process of its own, so
    /// its own families, as nginx's exporters keep a server block's apart).
    public init(service: String = "http", factory: any MetricsFactory) {
        let prefix = "appserver_\(service)_"
        requests = HTTPMetrics.methods.map { method in
            HTTPMetrics.classes.map {
                Counter(label: prefix + "requests_total", dimensions: [("method", method), ("code", $0)], factory: factory)
            }
        }
        responseBytes = Counter(label: prefix + "response_bytes_total", factory: factory)
        gzipCacheHits = Counter(label: prefix + "gzip_cache_hits_total", factory: factory)
        gzipCacheSize = Gauge(label: prefix + "gzip_cache_size_bytes", factory: factory)
        duration = Timer(label: prefix + "request_duration_seconds", factory: factory)
        connections = ConnectionObserver(service: service, factory: factory)
    }

    func answered(method: String, status: Int, bytes: Int64) {
        let row = method == "GET" ? 0 : method == "HEAD" ? 1 : 2
        let column = min(max(status / 100, 1), 5) - 1
        requests[row][column].increment()
        if bytes > 0 { responseBytes.increment(by: bytes) }
    }

    /// Sets what is read rather than counted (before each exposition).
    public func collect(_ cache: GzipCache) {
        gzipCacheSize.record(cache.heldBytes)
    }
}
