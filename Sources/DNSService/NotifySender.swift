import Glibc
import Logging
import ServerCore

/// Sends NOTIFY for the zones we are primary for: every zone once when serving starts (as
/// BIND does on load), and after a reload each zone whose serial grew; a zone whose records
/// changed while its serial did not is logged with a warning, as secondaries will not see
/// it. Each target is tried `tries` times, `interval` seconds apart, until it answers (BIND
/// tries 5 times); NS names outside the zone are resolved through the forwarder when there
/// is one, else skipped with a notice.
public final class NotifySender: Sendable {
    let extras: [SocketAddress]
    let key: TSIGKey?
    let forwarder: (any UpstreamResolver)?
    let logger: Logger
    let tries: Int
    let interval: Double
    let clock: @Sendable () -> UInt64

    public init(extras: [SocketAddress], key: TSIGKey?, forwarder: (any UpstreamResolver)?, logger: Logger,
                tries: Int = 5, interval: Double = 2, clock: @escaping @Sendable () -> UInt64 = { UInt64(max(0, time(nil))) }) {
        self.extras = extras
        self.key = key
        self.forwarder = forwarder
        self.logger = logger
        self.tries = tries
        self.interval = interval
        self.clock = clock
    }

    /// Tells the secondaries of what changed between `old` and `new` (all of `new` at start).
    public func zonesChanged(from old: [Zone], to new: [Zone]) {
        for (zone, change) in Notify.changes(from: old, to: new) {
            switch change {
            case .grew: notify(zone)
            case .changedWithoutSerial(let was, let now):
                logger.warning("dns zone \(DNSResponder.logText(zone.origin)) changed but its serial went from \(was) to \(now), not up: secondaries will not see the change; raise the serial")
            }
        }
    }

    /// Sends the zone's NOTIFY to each of its targets.
    public func notify(_ zone: Zone) {
        let (addresses, elsewhere) = Notify.targets(zone, extras: extras)
        addresses.forEach { send(zone, to: $0) }
        for host in elsewhere {
            guard let forwarder else {
                logger.notice("dns notify \(DNSResponder.logText(zone.origin)): skipping NS \(DNSResponder.logText(host)), outside the zone (no --upstream to resolve it)")
                continue
            }
            for type in [RRType.a, .aaaa] {
                forwarder.resolve(DNSMessage.Question(name: host, type: type)) { [self] answer in
                    let found = (answer?.answer ?? []).filter { $0.name == host }.compactMap(Notify.address)
                    found.forEach { send(zone, to: SocketAddress(ip: $0, port: 53)) }
                }
            }
        }
    }

    private func send(_ zone: Zone, to target: SocketAddress) {
        let id = UInt16.random(in: 0...UInt16.max)
        let message = Notify.message(for: zone, id: id, key: key, now: clock())
        let origin = zone.origin, logger = logger, tries = tries
        let serial = if case .soa(let soa) = zone.soa.data { soa.serial } else { UInt32(0) }
        DatagramExchange.send(message, to: target, tries: tries, interval: interval,
                              accepts: { Notify.answers($0, id: id, origin: origin) }) { reply in
            let zoneText = "\(DNSResponder.logText(origin)) serial \(serial)"
            guard let reply else {
                return logger.notice("dns notify \(zoneText) to \(target): no answer after \(tries) tries")
            }
            let rcode = DNSMessage.header(of: reply).map { RCode(rawValue: $0.flags & 0xF).map { "\($0)".uppercased() } ?? "RCODE\($0.flags & 0xF)" } ?? "-"
            logger.info("dns notify \(zoneText) to \(target): \(rcode)")
        }
    }
}
