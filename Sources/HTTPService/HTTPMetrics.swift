import CoreMetrics
import ServerCore

/// The HTTP service's counters, made once from the metrics API (the backend is the
/// command's) and counted per CPU with no lock: an answer costs two relaxed atomic adds
/// and the duration's record; `flush` moves them into the handles before each exposition.
public struct HTTPMetrics: Sendable {
    static let methods = ["GET", "HEAD", "other"]
    static let classes = ["1xx", "2xx", "3xx", "4xx", "5xx"]
    /// Cells after the requests' (by method, then by status class).
    static let responseBytes = methods.count * classes.count, gzipCacheHits = responseBytes + 1

    let counts: PerCPUCounters
    let gzipCacheSize: Gauge
    public let duration: PerCPUHistogram
    public let connections: ConnectionObserver

    /// Handles named `appserver_<service>_*`: `http`, or `https` (a process of its own, so
    /// its own families, as nginx's exporters keep a server block's apart).
    public init(service: String = "http", factory: any MetricsFactory) {
        let prefix = "appserver_\(service)_"
        let requests = HTTPMetrics.methods.flatMap { method in
            HTTPMetrics.classes.map {
                PerCPUCounters.Output.counter(Counter(label: prefix + "requests_total", dimensions: [("method", method), ("code", $0)],
                                                      factory: factory))
            }
        }
        counts = PerCPUCounters(requests + [.counter(Counter(label: prefix + "response_bytes_total", factory: factory)),
                                            .counter(Counter(label: prefix + "gzip_cache_hits_total", factory: factory))])
        gzipCacheSize = Gauge(label: prefix + "gzip_cache_size_bytes", factory: factory)
        duration = PerCPUHistogram(output: Timer(label: prefix + "request_duration_seconds", factory: factory))
        connections = ConnectionObserver(service: service, factory: factory)
    }

    var gzipCacheHits: PerCPUCounters.Cell { counts.cell(HTTPMetrics.gzipCacheHits) }

    func answered(method: String, status: Int, bytes: Int64) {
        let row = method == "GET" ? 0 : method == "HEAD" ? 1 : 2
        let column = min(max(status / 100, 1), 5) - 1
        counts.add(row * HTTPMetrics.classes.count + column)
        if bytes > 0 { counts.add(HTTPMetrics.responseBytes, Int(clamping: bytes)) }
    }

    /// Sets what is read rather than counted (before each exposition).
    public func collect(_ cache: GzipCache) {
        gzipCacheSize.record(cache.heldBytes)
    }

    /// Moves the counts into the handles (before each exposition).
    public func flush() {
        counts.flush()
        duration.flush()
        connections.flush()
    }
}
