import CoreMetrics

/// What a service's TCP connections are counted as, given to the registry in its
/// `TCPService`: its name (for the console's list of connections) and its counts, kept
/// per CPU with no lock (`PerCPUCounters`) until `flush` moves them into the metrics API.
/// TLS handshakes are counted by the connection's TLS code (Connection+TLS) as each ends.
public final class ConnectionObserver: Sendable {
    public let service: String
    let counts: PerCPUCounters
    static let accepted = 0, active = 1, refusedBusy = 2, refusedPerAddress = 3, handshakes = 4, handshakeFailures = 5

    /// Handles named `appserver_<service>_connections_*` and `appserver_<service>_tls_*`.
    public init(service: String, factory: any MetricsFactory) {
        self.service = service
        let prefix = "appserver_\(service)_"
        func counter(_ name: String, _ dimensions: [(String, String)] = []) -> PerCPUCounters.Output {
            .counter(Counter(label: prefix + name, dimensions: dimensions, factory: factory))
        }
        counts = PerCPUCounters([
            counter("connections_accepted_total"),
            .meter(Meter(label: prefix + "connections_active", factory: factory)),
            counter("connections_refused_total", [("reason", "busy")]),
            counter("connections_refused_total", [("reason", "per_address")]),
            counter("tls_handshakes_total"),
            counter("tls_handshake_failures_total"),
        ])
    }

    /// A name without metrics (the console still lists the connections).
    public convenience init(service: String) {
        self.init(service: service, factory: NOOPMetricsHandler.instance)
    }

    /// Moves the counts into the metrics API's handles (before each exposition).
    public func flush() { counts.flush() }

    func opened() {
        counts.add(Self.accepted)
        counts.add(Self.active)
    }

    func closed() { counts.add(Self.active, -1) }

    func refused(perAddress: Bool) { counts.add(perAddress ? Self.refusedPerAddress : Self.refusedBusy) }

    /// A TLS handshake has ended, well or not.
    func handshake(succeeded: Bool) { counts.add(succeeded ? Self.handshakes : Self.handshakeFailures) }
}
