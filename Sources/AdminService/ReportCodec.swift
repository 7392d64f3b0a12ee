import ServerCore

/// A `ServiceReport` as one datagram: lines of tab-separated fields, then the metrics
/// text. Every field is either a number, an address, or text the service has already
/// escaped for its log lines (no tab, newline or control byte), so no quoting is needed;
/// the decoder checks each line's shape and refuses anything else. Bounded by the datagram.
public enum ReportCodec {
    public static let maxSize = 192 * 1024

    public static func encode(_ report: ServiceReport) -> [UInt8] {
        var text = "appserver-report 1\nservice\t\(clean(report.service))\nready\t\(report.ready ? 1 : 0)\nrequests\t\(report.requests)\n"
        for c in report.connections {
            text += "conn\t\(c.id.remote)\t\(c.id.local)\t\(clean(c.service))\t\(clean(c.state))\t\(Int(c.ageSeconds * 1000))\t\(c.bytesIn)\t\(c.bytesOut)\n"
        }
        for e in report.recent {
            text += "recent\t\(e.time)\t\(e.client.remote)\t\(e.client.local)\t\(e.bytes)\t\(clean(e.summary))\n"
        }
        for z in report.zones { text += "zone\t\(clean(z.name))\t\(z.serial)\n" }
        text += "metrics\n" + report.metrics
        return Array(text.utf8.prefix(maxSize))
    }

    /// The report, or nil for anything not in the shape `encode` writes.
    public static func decode(_ bytes: [UInt8]) -> ServiceReport? {
        guard bytes.count <= maxSize, let text = String(validating: bytes, as: UTF8.self) else { return nil }
        guard let split = text.firstRange(of: "\nmetrics\n") else { return nil }
        var lines = text[..<split.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first == "appserver-report 1" else { return nil }
        lines.removeFirst()
        var report = ServiceReport(service: "", ready: false, metrics: String(text[split.upperBound...]))
        for line in lines {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard let kind = f.first else { return nil }
            switch (kind, f.count) {
            case ("service", 2): report.service = f[1]
            case ("ready", 2): report.ready = f[1] == "1"
            case ("requests", 2):
                guard let n = number(f[1]) else { return nil }
                report.requests = n
            case ("conn", 8):
                guard let remote = SocketAddress(f[1], defaultPort: 0), let local = SocketAddress(f[2], defaultPort: 0),
                      let age = number(f[5]), let bytesIn = number(f[6]), let bytesOut = number(f[7]) else { return nil }
                report.connections.append(ConnectionSnapshot(id: ConnectionID(local: local, remote: remote), service: f[3], state: f[4],
                                                             ageSeconds: Double(age) / 1000, bytesIn: bytesIn, bytesOut: bytesOut))
            case ("recent", 6):
                guard let time = number(f[1]), let remote = SocketAddress(f[2], defaultPort: 0),
                      let local = SocketAddress(f[3], defaultPort: 0), let bytes = number(f[4]) else { return nil }
                report.recent.append(.init(time: time, client: ConnectionID(local: local, remote: remote), summary: f[5], bytes: Int64(bytes)))
            case ("zone", 3):
                guard let serial = StrictNumber.decimal(f[2], as: UInt32.self) else { return nil }
                report.zones.append(.init(name: f[1], serial: serial))
            default:
                return nil
            }
        }
        return report.service.isEmpty ? nil : report
    }

    private static func number(_ text: String) -> Int? {
        StrictNumber.decimal(text, as: UInt64.self, max: UInt64(Int.max)).map { Int($0) }
    }

    /// Text fields never hold the separators (they are log-escaped already; this is the guard).
    private static func clean(_ text: String) -> String {
        text.contains { $0 == "\t" || $0 == "\n" || $0 == "\r" } ? LogEscape.escaped(text) : text
    }
}
