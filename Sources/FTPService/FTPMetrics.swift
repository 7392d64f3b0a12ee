import CoreMetrics
import Glibc
import ServerCore

/// The FTP service's counters (under `appserver_ftp_`): logins by result, transfers and
/// their bytes by direction (`upload` for STOR, APPE and STOU; `download` for the rest,
/// listings included), counted per CPU with no lock and moved into the handles by
/// `flush`; and the last transfers for the console.
public struct FTPMetrics: Sendable {
    /// The cells: logins ok and failed, then transfers and bytes, each upload and download.
    static let logins = 0, transfers = 2, bytes = 4

    let counts: PerCPUCounters
    public let duration: PerCPUHistogram
    public let connections: ConnectionObserver
    public let recentTransfers = RecentExchanges()

    public init(factory: any MetricsFactory) {
        func counter(_ label: String, _ dimension: (String, String)) -> PerCPUCounters.Output {
            .counter(Counter(label: label, dimensions: [dimension], factory: factory))
        }
        func byDirection(_ label: String) -> [PerCPUCounters.Output] {
            [counter(label, ("direction", "upload")), counter(label, ("direction", "download"))]
        }
        counts = PerCPUCounters([counter("appserver_ftp_logins_total", ("result", "ok")), counter("appserver_ftp_logins_total", ("result", "failed"))]
            + byDirection("appserver_ftp_transfers_total") + byDirection("appserver_ftp_bytes_total"))
        duration = PerCPUHistogram(output: Timer(label: "appserver_ftp_request_duration_seconds", factory: factory))
        connections = ConnectionObserver(service: "ftp", factory: factory)
    }

    func login(succeeded: Bool) { counts.add(FTPMetrics.logins + (succeeded ? 0 : 1)) }

    /// A transfer's end: `command` as logged (`STOR name`), `bytes` moved (nil: unknown).
    func transferred(_ command: String, by user: String, client: ConnectionID, code: Int, bytes moved: Int64?) {
        let verb = command.prefix { $0 != " " }.uppercased()
        let download = ["STOR", "APPE", "STOU"].contains(verb) ? 0 : 1
        counts.add(FTPMetrics.transfers + download)
        if let moved, moved > 0 { counts.add(FTPMetrics.bytes + download, Int(clamping: moved)) }
        recentTransfers.add(.init(time: time(nil), client: client, summary: "\(user) \"\(command)\" \(code)", bytes: moved ?? 0))
    }

    /// Moves the counts into the handles (before each exposition).
    public func flush() {
        counts.flush()
        duration.flush()
        connections.flush()
    }
}
