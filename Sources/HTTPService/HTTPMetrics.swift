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

    public init(factory: any MetricsFactory) {
        requests = HTTPMetrics.methods.map { method in
            HTTPMetrics.classes.map {
                Counter(label: "appserver_http_requests_total", dimensions: [("method", method), ("code", $0)], factory: factory)
            }
        }
        responseBytes = Counter(label: "appserver_http_response_bytes_total", factory: factory)
        gzipCacheHits = Counter(label: "appserver_http_gzip_cache_hits_total", factory: factory)
        gzipCacheSize = Gauge(label: "appserver_http_gzip_cache_size_bytes", factory: factory)
        duration = Timer(label: "appserver_http_request_duration_seconds", factory: factory)
        connections = ConnectionObserver(service: "http", factory: factory)
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
