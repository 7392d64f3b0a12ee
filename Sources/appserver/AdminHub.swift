import AdminService
import Dispatch
import FTPService
import ServerCore
import Synchronization

/// The admin listener's view of the server: the latest report of each service (from its
/// child process, or from this process with --single-process), kept for `staleAfter`
/// seconds, and the routes that show it. Read-only: nothing here changes the server.
final class AdminHub: Sendable {
    static let staleAfter = 5.0

    private struct Held {
        var report: ServiceReport
        var at: Double
        var rate: Double = 0
    }

    let services: [String]
    let data: String
    let user: (name: String, check: PasswordFile)?
    let observability: Observability
    private let held = Mutex<[String: Held]>([:])

    init(settings: Settings, observability: Observability) {
        services = settings.configuredServices.filter { $0 != "admin" }
        data = settings.data
        user = settings.adminUser
        self.observability = observability
    }

    /// A service's report has come: kept, with its requests per second since the last one.
    func update(_ report: ServiceReport) {
        let now = Supervisor.now()
        held.withLock { held in
            var entry = Held(report: report, at: now)
            if let last = held[report.service], now > last.at, report.requests >= last.report.requests {
                entry.rate = Double(report.requests - last.report.requests) / (now - last.at)
            }
            held[report.service] = entry
        }
    }

    /// The reports not yet stale, by service.
    func fresh() -> [String: (report: ServiceReport, rate: Double)] {
        let now = Supervisor.now()
        return held.withLock { held in
            held.filter { now - $0.value.at <= AdminHub.staleAfter }.mapValues { ($0.report, $0.rate) }
        }
    }

    /// Every configured service has a fresh report saying it serves.
    var ready: Bool {
        let reports = fresh()
        return services.allSatisfy { reports[$0]?.report.ready == true }
    }

    func state() -> ConsoleState {
        let reports = fresh()
        return ConsoleState(services: services.map { ($0, reports[$0]?.report) }, rates: reports.mapValues(\.rate),
                            mails: services.contains("smtp") ? MailFolder.recent(in: data) : [])
    }

    /// Every service's Prometheus text, then this process's own.
    func metrics() -> String {
        let reports = fresh()
        return services.compactMap { reports[$0]?.report.metrics }.joined() + observability.exposition()
    }
}
