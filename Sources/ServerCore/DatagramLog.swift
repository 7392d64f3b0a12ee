import Dispatch
import Glibc
import Logging

/// A datagram service's access lines, durations and recent exchanges: the UDP side of
/// what `SessionDriver` does for connections. An answer is timed from the read of the
/// batch its query came in (the listener reads the clock once per batch, and only when
/// `isTimed`) to the moment it is handed to `DatagramReply.send`, upstream's too.
public struct DatagramLog: Sendable {
    /// The word that starts its lines (`dns`).
    public let service: String
    let access: AccessLog
    let duration: PerCPUHistogram?
    let recent: RecentExchanges?
    /// Monotonic nanoseconds (tests inject one).
    let clock: @Sendable () -> UInt64
    /// Lines are written, durations recorded or exchanges kept: only then is the clock read
    /// and an answer's summary wanted.
    public let isTimed: Bool

    public init(service: String, logger: Logger, duration: PerCPUHistogram? = nil, recent: RecentExchanges? = nil,
                clock: @escaping @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }) {
        self.service = service
        access = AccessLog(logger: logger)
        self.duration = duration
        self.recent = recent
        self.clock = clock
        isTimed = access.isEnabled || duration != nil || recent != nil
    }

    /// `service REMOTE -> LOCAL udp SUMMARY SIZE N.Nms` for an answer of `size` bytes to
    /// the datagram of `id` read at `received`.
    func record(_ summary: String, size: Int, _ id: ConnectionID, received: UInt64) {
        let now = clock()
        let nanos = now > received ? now - received : 0
        duration?.recordNanoseconds(Int64(clamping: nanos))
        recent?.add(.init(time: time(nil), client: id, summary: summary, bytes: Int64(size)))
        access.write(service: service, id, nanos: nanos) { line in
            line.append(contentsOf: "udp ".utf8)
            line.append(contentsOf: summary.utf8)
            line.append(0x20)
            AddressText.appendDecimal(UInt64(size), to: &line)
        }
    }
}
