import AdminService
import CoreMetrics
import DNSService
import FTPService
import HTTPService
import Prometheus
import ServerCore
import SMTPService
import Synchronization

/// This process's metrics: one Prometheus registry, the services' handles made from it
/// (their hot counts kept per CPU and moved into them before each exposition), and what is
/// read rather than counted (cache sizes, zone serials, dropped log lines),
/// set just before each exposition. Each process has its own, holding only its own
/// services' families (so the children's texts never repeat one), and a restarted child's
/// counters start again from zero.
final class Observability: Sendable {
    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    let http: HTTPMetrics?
    let https: HTTPMetrics?
    let dns: DNSMetrics?
    let smtp: SMTPMetrics?
    let ftp: FTPMetrics?
    let admin: ConnectionObserver?
    let logDropped: CoreMetrics.Counter
    private let collectors = Collectors()

    init(process: String, services: [String]) {
        var factory = PrometheusMetricsFactory(registry: registry)
        // The per-CPU histograms' buckets: their flush is exact only into the same ones.
        factory.defaultDurationHistogramBuckets = PerCPUHistogram.requestBuckets
        self.factory = factory
        http = services.contains("http") ? HTTPMetrics(service: "http", factory: factory) : nil
        https = services.contains("https") ? HTTPMetrics(service: "https", factory: factory) : nil
        dns = services.contains("dns") ? DNSMetrics(factory: factory) : nil
        smtp = services.contains("smtp") ? SMTPMetrics(factory: factory) : nil
        ftp = services.contains("ftp") ? FTPMetrics(factory: factory) : nil
        admin = services.contains("admin") ? ConnectionObserver(service: "admin", factory: factory) : nil
        logDropped = CoreMetrics.Counter(label: process == "all" ? "appserver_log_dropped_lines_total" : "appserver_\(process)_log_dropped_lines_total",
                             factory: factory)
        // The services count per CPU; their counts reach the registry before each exposition.
        collectors.add { [http, https, dns, smtp, ftp, admin] in
            http?.flush(); https?.flush(); dns?.flush(); smtp?.flush(); ftp?.flush(); admin?.flush()
        }
    }

    /// Adds a step run before each exposition.
    func collect(_ step: @escaping @Sendable () -> Void) { collectors.add(step) }

    /// The Prometheus text of this process, what is read brought up to date first.
    func exposition() -> String {
        collectors.run()
        return registry.emitToString()
    }

    /// Counts the lines `output` dropped since the last exposition.
    func watch(_ output: LogOutput) {
        let seen = Seen()
        collect { [logDropped] in
            let dropped = output.droppedLines
            let delta = seen.advance(to: dropped)
            if delta > 0 { logDropped.increment(by: delta) }
        }
    }
}

private final class Collectors: Sendable {
    private let steps = Mutex<[@Sendable () -> Void]>([])

    func add(_ step: @escaping @Sendable () -> Void) { steps.withLock { $0.append(step) } }

    func run() { steps.withLock { $0 }.forEach { $0() } }
}

/// A running total's last value seen.
private final class Seen: Sendable {
    private let value = Mutex(0)

    func advance(to total: Int) -> Int {
        value.withLock { seen in
            defer { seen = total }
            return total - seen
        }
    }
}
