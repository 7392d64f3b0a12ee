import Glibc
import Logging
import ServerCore
import Synchronization

/// The zones we are a secondary for (RFC 1034 4.3.5, RFC 5936): each transferred when
/// serving starts (IXFR with our serial when a copy is kept, AXFR accepted), again at its
/// SOA's refresh interval, at its retry interval after a failure, and at once on a NOTIFY
/// from its primary; at most one transfer per zone at a time (a NOTIFY meanwhile asks for
/// one more after it). Each new copy is written to DATA/dns (beside, fsynced, renamed:
/// never half there) and then served; a failed transfer keeps the copy we had. Past the
/// expire interval without contact with the primary, the zone is SERVFAIL.
public final class Secondaries: NotifyReceiver {
    private let zones: [DNSName: SecondaryZone]
    private let keys: [DNSName: TSIGKey]
    private let store: ZoneStore
    private let folder: String
    private let connect: @Sendable (SocketAddress, TCPService) -> Void
    private let logger: Logger
    private let clock: @Sendable () -> UInt64
    private let state: Mutex<[DNSName: Progress]>

    /// Seconds a transfer may take in all, and with nothing received.
    public static let deadline = 120.0
    public static let idle = 15.0

    struct Progress {
        var soa: RData.SOA?
        var lastContact: UInt64?
        var running = false
        var again = false
        var askAXFR = false
        var next: ScheduledTask?
        var expiry: ScheduledTask?
    }

    /// `copies`: what `loadCopies` found, with when each was last written (our last contact).
    public init(_ list: [SecondaryZone], keys: [DNSName: TSIGKey], store: ZoneStore, folder: String,
                copies: [DNSName: (zone: Zone, written: UInt64)], logger: Logger,
                clock: @escaping @Sendable () -> UInt64 = { UInt64(max(0, time(nil))) },
                connect: @escaping @Sendable (SocketAddress, TCPService) -> Void) {
        zones = Dictionary(list.map { ($0.origin, $0) }, uniquingKeysWith: { a, _ in a })
        self.keys = keys
        self.store = store
        self.folder = folder
        self.logger = logger
        self.clock = clock
        self.connect = connect
        var progress: [DNSName: Progress] = [:]
        for zone in list {
            let copy = copies[zone.origin]
            progress[zone.origin] = Progress(soa: copy.flatMap { if case .soa(let soa) = $0.zone.soa.data { soa } else { nil } },
                                             lastContact: copy?.written)
        }
        state = Mutex(progress)
    }

    /// The copies kept in `folder`, each with its file's time; a copy that does not load is
    /// named in `problems` and transferred afresh.
    public static func loadCopies(_ list: [SecondaryZone], folder: String) -> (copies: [DNSName: (zone: Zone, written: UInt64)], problems: [String]) {
        guard LocalFiles.isDirectory(folder), let opened = try? ZoneFolder(folder) else { return ([:], []) }
        var copies: [DNSName: (zone: Zone, written: UInt64)] = [:]
        var problems: [String] = []
        for zone in list {
            var info = stat()
            guard stat(folder + "/" + zone.fileName, &info) == 0 else { continue }
            do {
                let loaded = try ZoneFileParser.load(zone.fileName, in: opened)
                guard loaded.zone.origin == zone.origin else {
                    problems.append("\(opened.display(zone.fileName)): holds \(loaded.zone.origin), not \(zone.origin); transferring it again")
                    continue
                }
                copies[zone.origin] = (loaded.zone, UInt64(max(0, info.st_mtim.tv_sec)))
            } catch {
                problems.append("\(error.description); transferring it again")
            }
        }
        return (copies, problems)
    }

    /// Starts every zone's first transfer, and the expiry of the copies kept.
    public func start() {
        for origin in zones.keys {
            let contact = state.withLock { $0[origin]?.lastContact }
            if let contact { scheduleExpiry(origin, after: contact) }
            transfer(origin)
        }
    }

    public func notified(_ origin: DNSName, from sender: IPAddress) -> NotifyVerdict {
        guard let zone = zones[origin] else { return .notSecondary }
        guard zone.primary.ip == sender else { return .notFromPrimary }
        transfer(origin)
        return .accepted
    }

    /// Asks the primary for the zone, unless a transfer of it is running (then once more after it).
    private func transfer(_ origin: DNSName) {
        guard let zone = zones[origin] else { return }
        let begin: (serial: UInt32?, axfr: Bool)? = state.withLock { all in
            guard var progress = all[origin] else { return nil }
            defer { all[origin] = progress }
            if progress.running {
                progress.again = true
                return nil
            }
            progress.running = true
            progress.next?.cancel()
            progress.next = nil
            defer { progress.askAXFR = false }
            return (progress.soa?.serial, progress.askAXFR)
        }
        guard let begin else { return }
        let key = zone.keyName.flatMap { keys[$0] }
        let client = TransferClient(origin: origin, serial: begin.serial, ixfr: !begin.axfr, key: key,
                                    id: UInt16.random(in: 0...UInt16.max), now: clock())
        let logger = logger, clock = clock
        let configuration = SessionDriver<TransferSession>.Configuration(service: "dns", logger: logger, inputLimit: TransferSession.inputLimit)
        connect(zone.primary, TCPService { [self] _ in
            SessionDriver(TransferSession(client: client, deadline: Secondaries.deadline, idle: Secondaries.idle,
                                          after: { ScheduledTask.after($0, $1) }, clock: clock) { [self] result in
                finished(zone, result)
            }, configuration)
        })
    }

    private func finished(_ zone: SecondaryZone, _ result: Result<TransferClient.Outcome, TransferClient.Failure>) {
        let name = DNSResponder.logText(zone.origin)
        switch result {
        case .success(.zone(let copy)):
            let serial = if case .soa(let soa) = copy.soa.data { soa.serial } else { UInt32(0) }
            let path = folder + "/" + zone.fileName
            let text = copy.masterFile(comment: "\(name) serial \(serial), transferred from \(zone.primary); rewritten by appserver")
            let job: @Sendable () -> Void = { [self] in
                if let error = LocalFiles.createDirectories(folder) {
                    logger.error("dns secondary \(name): cannot create \(folder): \(errorText(error)); serving the copy from memory")
                } else if !LocalFiles.write(text, to: path) {
                    logger.error("dns secondary \(name): cannot write \(path): \(errorText(errno)); serving the copy from memory")
                }
                store.install(copy)
                logger.notice("dns secondary \(name): serial \(serial) from \(zone.primary), \(copy.recordCount) records")
                contacted(zone, soa: copy.soa)
            }
            if !BlockingPool.shared.submit(job) { job() }
        case .success(.upToDate(let serial)):
            logger.info("dns secondary \(name): serial \(serial) is current at \(zone.primary)")
            contacted(zone, soa: nil)
        case .failure(.incremental):
            logger.notice("dns secondary \(name): \(TransferClient.Failure.incremental)")
            state.withLock { $0[zone.origin]?.askAXFR = true }
            ended(zone, retryAt: 0)
        case .failure(let failure):
            let had = state.withLock { $0[zone.origin]?.soa != nil }
            logger.error("dns secondary \(name): transfer from \(zone.primary) failed: \(failure); \(had ? "keeping the previous copy" : "no copy yet")")
            let soa = state.withLock { $0[zone.origin]?.soa }
            ended(zone, retryAt: SecondaryZone.Timers(soa).retry)
        }
    }

    /// The primary answered: the expire clock starts again and the next refresh is due.
    private func contacted(_ zone: SecondaryZone, soa record: ResourceRecord?) {
        let now = clock()
        let soa: RData.SOA? = state.withLock { all in
            if let record, case .soa(let soa) = record.data { all[zone.origin]?.soa = soa }
            all[zone.origin]?.lastContact = now
            return all[zone.origin]?.soa
        }
        scheduleExpiry(zone.origin, after: now)
        ended(zone, retryAt: SecondaryZone.Timers(soa).refresh)
    }

    /// The transfer is over: the next one `seconds` from now, or at once if a NOTIFY came meanwhile.
    private func ended(_ zone: SecondaryZone, retryAt seconds: Double) {
        let again = state.withLock { all in
            defer { all[zone.origin]?.running = false; all[zone.origin]?.again = false }
            return all[zone.origin]?.again ?? false
        }
        if again || seconds <= 0 { return transfer(zone.origin) }
        let task = ScheduledTask.after(seconds) { [self] in transfer(zone.origin) }
        state.withLock { $0[zone.origin]?.next?.cancel(); $0[zone.origin]?.next = task }
    }

    /// SERVFAIL for the zone once `expire` seconds pass after `contact` with no contact since.
    private func scheduleExpiry(_ origin: DNSName, after contact: UInt64) {
        let soa = state.withLock { $0[origin]?.soa }
        let expire = SecondaryZone.Timers(soa).expire
        guard expire.isFinite else { return }
        let elapsed = Double(clock() > contact ? clock() - contact : 0)
        let task = ScheduledTask.after(expire - elapsed) { [self] in
            // Nothing left to be current with: the next transfer is a whole one.
            let stale = state.withLock { all in
                guard all[origin]?.lastContact == contact else { return false }
                all[origin]?.soa = nil
                return true
            }
            guard stale else { return }
            logger.error("dns secondary \(DNSResponder.logText(origin)): expired (no contact with the primary for \(Int(expire)) s): SERVFAIL until a transfer succeeds")
            store.expire(origin)
        }
        state.withLock { $0[origin]?.expiry?.cancel(); $0[origin]?.expiry = task }
    }
}
