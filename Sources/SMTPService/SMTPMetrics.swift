import CoreMetrics
import ServerCore

/// The SMTP service's counters (Postfix exporters' names, under `appserver_smtp_`):
/// sessions, messages by result (`accepted`, or the refusing reply's code), bytes received;
/// counted per CPU with no lock, and moved into the handles by `flush`.
public struct SMTPMetrics: Sendable {
    /// The results, each a cell in this order; then sessions and bytes.
    static let results = ["accepted", "other", "451", "452", "552", "554"]
    static let sessions = results.count, bytes = results.count + 1

    let counts: PerCPUCounters
    public let duration: PerCPUHistogram
    public let connections: ConnectionObserver

    public init(factory: any MetricsFactory) {
        func counter(_ label: String, _ dimensions: [(String, String)] = []) -> PerCPUCounters.Output {
            .counter(Counter(label: label, dimensions: dimensions, factory: factory))
        }
        counts = PerCPUCounters(SMTPMetrics.results.map { counter("appserver_smtp_messages_total", [("result", $0)]) }
            + [counter("appserver_smtp_sessions_total"), counter("appserver_smtp_bytes_total")])
        duration = PerCPUHistogram(output: Timer(label: "appserver_smtp_request_duration_seconds", factory: factory))
        connections = ConnectionObserver(service: "smtp", factory: factory)
    }

    func began() { counts.add(SMTPMetrics.sessions) }

    func ended(_ reply: SMTPReply, size: Int) {
        let result = reply.code == 250 ? 0 : SMTPMetrics.results.firstIndex(of: String(reply.code)) ?? 1
        counts.add(result)
        if reply.code == 250 { counts.add(SMTPMetrics.bytes, size) }
    }

    /// Moves the counts into the handles (before each exposition).
    public func flush() {
        counts.flush()
        duration.flush()
        connections.flush()
    }
}
