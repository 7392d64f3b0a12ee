import AdminService
import Dispatch
import DNSService
import ServerCore

/// Once a second, this process's reports: one per service it serves, with its open
/// connections (from the workers' snapshots), last exchanges and zones; the Prometheus
/// text rides with them from a supervised child (with --single-process the admin listener
/// reads this process's registry itself).
final class AdminReporter: Sendable {
    let services: [String]
    let registry: ListenerRegistry
    let observability: Observability
    let zones: ZoneStore?
    let withMetrics: Bool
    let deliver: @Sendable (ServiceReport) -> Void
    private let queue = DispatchQueue(label: "appserver.admin.reporter")

    init(services: [String], registry: ListenerRegistry, observability: Observability, zones: ZoneStore?, withMetrics: Bool,
         deliver: @escaping @Sendable (ServiceReport) -> Void) {
        self.services = services.filter { $0 != "admin" }
        self.registry = registry
        self.observability = observability
        self.zones = zones
        self.withMetrics = withMetrics
        self.deliver = deliver
    }

    /// Reports now and then every second, for as long as the process runs.
    func start() -> any DispatchSourceTimer {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now(), repeating: 1, leeway: .milliseconds(100))
        timer.setEventHandler { [self] in report() }
        timer.activate()
        return timer
    }

    private func report() {
        let text = observability.exposition()
        registry.snapshot { [self] connections in
            for service in services {
                var report = ServiceReport(service: service, ready: true, requests: AdminReporter.requests(of: service, in: text),
                                           connections: connections.filter { $0.service == service },
                                           metrics: withMetrics ? text : "")
                switch service {
                case "dns":
                    report.recent = observability.dns?.recentDatagrams.entries ?? []
                    report.zones = (zones?.authority.zones ?? []).compactMap { zone in
                        guard case .soa(let soa) = zone.soa.data else { return nil }
                        return ServiceReport.Zone(name: DNSResponder.logText(zone.origin), serial: soa.serial)
                    }
                case "ftp":
                    report.recent = observability.ftp?.recentTransfers.entries ?? []
                default:
                    break
                }
                deliver(report)
            }
        }
    }

    /// The count of `service`'s request duration histogram in `text`.
    static func requests(of service: String, in text: String) -> Int {
        ServiceReport.requestCount(in: text, prefix: "appserver_\(service)_")
    }
}
