import CoreMetrics
import Glibc
import ServerCore

/// The FTP service's counters (under `appserver_ftp_`): logins by result, transfers and
/// their bytes by direction (`upload` for STOR, APPE and STOU; `download` for the rest,
/// listings included), and the last transfers for the console.
public struct FTPMetrics: Sendable {
    let logins: [Bool: Counter]
    let transfers: [Bool: Counter]
    let bytes: [Bool: Counter]
    public let duration: Timer
    public let connections: ConnectionObserver
    public let recentTransfers = RecentExchanges()

    public init(factory: any MetricsFactory) {
        logins = [true: Counter(label: "appserver_ftp_logins_total", dimensions: [("result", "ok")], factory: factory),
                  false: Counter(label: "appserver_ftp_logins_total", dimensions: [("result", "failed")], factory: factory)]
        func byDirection(_ label: String) -> [Bool: Counter] {
            [true: Counter(label: label, dimensions: [("direction", "upload")], factory: factory),
             false: Counter(label: label, dimensions: [("direction", "download")], factory: factory)]
        }
        transfers = byDirection("appserver_ftp_transfers_total")
        bytes = byDirection("appserver_ftp_bytes_total")
        duration = Timer(label: "appserver_ftp_request_duration_seconds", factory: factory)
        connections = ConnectionObserver(service: "ftp", factory: factory)
    }

    func login(succeeded: Bool) { logins[succeeded]?.increment() }

    /// A transfer's end: `command` as logged (`STOR name`), `bytes` moved (nil: unknown).
    func transferred(_ command: String, by user: String, client: ConnectionID, code: Int, bytes moved: Int64?) {
        let verb = command.prefix { $0 != " " }.uppercased()
        let upload = ["STOR", "APPE", "STOU"].contains(verb)
        transfers[upload]?.increment()
        if let moved, moved > 0 { bytes[upload]?.increment(by: moved) }
        recentTransfers.add(.init(time: time(nil), client: client, summary: "\(user) \"\(command)\" \(code)", bytes: moved ?? 0))
    }
}
