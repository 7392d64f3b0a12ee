import CoreMetrics

/// What a service's TCP connections are counted as, given to the registry in its
/// `TCPService`: its name (for the console's list of connections) and its handles in the
/// metrics API. Each event is one atomic add in the backend; nothing here takes a lock.
/// TLS handshakes are counted by the connection's TLS code (Connection+TLS) as each ends.
public final class ConnectionObserver: Sendable {
    public let service: String
    let accepted: Counter
    let active: Meter
    let refusedBusy: Counter
    let refusedPerAddress: Counter
    let handshakes: Counter
    let handshakeFailures: Counter

    /// Handles named `appserver_<service>_connections_*` and `appserver_<service>_tls_*`.
    public init(service: String, factory: any MetricsFactory) {
        self.service = service
        let prefix = "appserver_\(service)_"
        accepted = Counter(label: prefix + "connections_accepted_total", factory: factory)
        active = Meter(label: prefix + "connections_active", factory: factory)
        refusedBusy = Counter(label: prefix + "connections_refused_total", dimensions: [("reason", "busy")], factory: factory)
        refusedPerAddress = Counter(label: prefix + "connections_refused_total", dimensions: [("reason", "per_address")], factory: factory)
        handshakes = Counter(label: prefix + "tls_handshakes_total", factory: factory)
        handshakeFailures = Counter(label: prefix + "tls_handshake_failures_total", factory: factory)
    }

    /// A name without metrics (the console still lists the connections).
    public convenience init(service: String) {
        self.init(service: service, factory: NOOPMetricsHandler.instance)
    }

    func opened() {
        accepted.increment()
        active.increment()
    }

    func closed() { active.decrement() }

    func refused(perAddress: Bool) { (perAddress ? refusedPerAddress : refusedBusy).increment() }

    /// A TLS handshake has ended, well or not.
    func handshake(succeeded: Bool) { (succeeded ? handshakes : handshakeFailures).increment() }
}
