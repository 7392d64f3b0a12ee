import Logging
import ServerCore

/// One transfer's data connection as the control session sees it: a transfer run on it
/// reports how it ended (and how many bytes it moved, nil if not known); ABOR and a new
/// PASV or PORT end it. `DataChannel` is the real one; tests put in one without sockets.
protocol DataLink: AnyObject, Sendable {
    func run(_ transfer: Transfer, done: @escaping @Sendable (DataChannel.Outcome, Int64?) -> Void)
    /// ABOR: true when a transfer was under way (its end is then reported as broken).
    func abort() -> Bool
    /// The control connection is done with this link.
    func close()
}

/// Where the control session gets its data links; with `tls` (PROT P), the data
/// connection is TLS from its first byte, the server side of the handshake whichever side
/// connected (RFC 4217 12).
protocol DataLinks: Sendable {
    /// A passive listener on `local` that accepts only `peer`, and its port; nil if none could open.
    func passive(local: IPAddress, peer: IPAddress, tls: TLSServerContext?) -> (link: any DataLink, port: UInt16)?
    /// A link that connects out to `target` when a transfer runs.
    func active(to target: SocketAddress, local: IPAddress, tls: TLSServerContext?) -> any DataLink
}

/// Data channels through the registry, as the service runs them.
struct RegistryDataLinks: DataLinks {
    let registry: ListenerRegistry
    let ports: ClosedRange<UInt16>?
    let timeout: Double
    let logger: Logger

    func passive(local: IPAddress, peer: IPAddress, tls: TLSServerContext?) -> (link: any DataLink, port: UInt16)? {
        DataChannel.passive(registry: registry, local: local, ports: ports, peer: peer, timeout: timeout, tls: tls, logger: logger)
            .map { ($0, $1.port) }
    }

    func active(to target: SocketAddress, local: IPAddress, tls: TLSServerContext?) -> any DataLink {
        DataChannel.active(registry: registry, target: target, local: local, timeout: timeout, tls: tls, logger: logger)
    }
}
