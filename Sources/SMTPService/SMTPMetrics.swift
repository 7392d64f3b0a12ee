import CoreMetrics
import ServerCore

/// The SMTP service's counters (Postfix exporters' names, under `appserver_smtp_`):
/// sessions, messages by result (`accepted`, or the refusing reply's code), bytes received.
public struct SMTPMetrics: Sendable {
    static let codes: Set<Int> = [451, 452, 552, 554]

    let sessions: Counter
    let messages: [String: Counter]
    let bytes: Counter
    public let duration: Timer
    public let connections: ConnectionObserver

    public init(factory: any MetricsFactory) {
        sessions = Counter(label: "appserver_smtp_sessions_total", factory: factory)
        var messages: [String: Counter] = [:]
        for result in ["accepted", "other"] + SMTPMetrics.codes.map(String.init) {
            messages[result] = Counter(label: "appserver_smtp_messages_total", dimensions: [("result", result)], factory: factory)
        }
        self.messages = messages
        bytes = Counter(label: "appserver_smtp_bytes_total", factory: factory)
        duration = Timer(label: "appserver_smtp_request_duration_seconds", factory: factory)
        connections = ConnectionObserver(service: "smtp", factory: factory)
    }

    func ended(_ reply: SMTPReply, size: Int) {
        let result = reply.code == 250 ? "accepted" : SMTPMetrics.codes.contains(reply.code) ? String(reply.code) : "other"
        messages[result]?.increment()
        if reply.code == 250 { bytes.increment(by: size) }
    }
}
