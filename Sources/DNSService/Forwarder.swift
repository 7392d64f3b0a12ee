import Dispatch
import Logging
import ServerCore
import Synchronization

/// Resolves names we are not authoritative for by asking upstream servers, through the
/// cache: hits never touch upstream, identical questions in flight share one upstream
/// query, a truncated UDP reply is asked again over TCP, an upstream over TLS is asked on
/// the connection kept to it, and when every upstream fails the client gets a stale answer
/// if one is kept, else SERVFAIL, within `deadline` seconds.
public final class Forwarder: UpstreamResolver {
    /// What TLS upstreams need: the registry that makes their connections, and the CA store
    /// their certificates are verified against.
    public struct TLSSetup: Sendable {
        public let registry: ListenerRegistry
        public let context: TLSClientContext

        public init(registry: ListenerRegistry, context: TLSClientContext) {
            self.registry = registry
            self.context = context
        }
    }

    /// How each upstream is asked, in order.
    private enum Route {
        case plain(SocketAddress)
        case tls(TLSUpstream)
    }

    public let upstreams: [Upstream]
    private let routes: [Route]
    public let cache: UpstreamRecordCache
    private let queue = DispatchQueue(label: "appserver.dns.forwarder")
    private let deadline: Double
    /// Waiters per question in flight (the first one asks upstream for all of them).
    private let inFlight = Mutex<[UpstreamRecordCache.Key: [@Sendable (UpstreamRecordCache.Answer?) -> Void]]>([:])

    /// Upstreams over TLS are asked only with `tls` (without it, they are left out);
    /// `logger` hears of TLS upstreams that cannot be reached or do not verify.
    public init(upstreams: [Upstream], cache: UpstreamRecordCache, deadline: Double = 2, tls: TLSSetup? = nil, logger: Logger? = nil) {
        self.upstreams = upstreams
        self.cache = cache
        self.deadline = deadline
        routes = upstreams.compactMap { [queue] upstream in
            guard let name = upstream.tlsName else { return .plain(upstream.address) }
            return tls.map { .tls(TLSUpstream(upstream, target: TLSClientTarget(context: $0.context, name: name),
                                              registry: $0.registry, queue: queue, logger: logger)) }
        }
    }

    public var now: UInt64 { cache.now }

    public func cached(_ question: DNSMessage.Question) -> UpstreamRecordCache.Answer? {
        cache.lookup(UpstreamRecordCache.Key(question))
    }

    /// Calls `completion` (on the forwarder's queue, or at once for a cache hit) with the
    /// answer, or nil for SERVFAIL.
    public func resolve(_ question: DNSMessage.Question, completion: @escaping @Sendable (UpstreamRecordCache.Answer?) -> Void) {
        let key = UpstreamRecordCache.Key(question)
        if let hit = cache.lookup(key) { return completion(hit) }
        let first = inFlight.withLock { waiters in
            defer { waiters[key, default: []].append(completion) }
            return waiters[key] == nil
        }
        guard first else { return }
        queue.async { [self] in
            ask(question, upstreams: routes[...], started: DispatchTime.now()) { [self] answer in
                if let answer { cache.store(key, answer) }
                let result = answer ?? cache.stale(key)
                for waiter in inFlight.withLock({ $0.removeValue(forKey: key) }) ?? [] { waiter(result) }
            }
        }
    }

    /// Tries each upstream in turn, sharing the deadline; runs on `queue`.
    private func ask(_ question: DNSMessage.Question, upstreams: ArraySlice<Route>, started: DispatchTime,
                     done: @escaping (UpstreamRecordCache.Answer?) -> Void) {
        assertOnQueue(queue)
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        guard let route = upstreams.first, elapsed < deadline else { return done(nil) }
        // Each server gets a fair share of what time is left, so one dead server cannot use it all.
        let share = (deadline - elapsed) / Double(upstreams.count)
        var query = DNSMessage()
        query.id = UInt16.random(in: 0...UInt16.max)
        query.recursionDesired = true
        query.questions = [question]
        query.edns = DNSMessage.EDNS(udpSize: 1232)
        let next = { [self] in ask(question, upstreams: upstreams.dropFirst(), started: started, done: done) }
        let upstream: SocketAddress
        switch route {
        case .plain(let address): upstream = address
        case .tls(let link):
            return link.exchange(query, timeout: share) { reply in
                guard let answer = reply.flatMap(Forwarder.usable) else { return next() }
                done(answer)
            }
        }
        UpstreamExchange(query: query, upstream: upstream, transport: .udp, queue: queue) { [self] reply in
            guard let reply else { return next() }
            if reply.truncated {
                UpstreamExchange(query: query, upstream: upstream, transport: .tcp, queue: queue) { reply in
                    guard let answer = reply.flatMap(Forwarder.usable) else { return next() }
                    done(answer)
                }.start(timeout: share)
                return
            }
            guard let answer = Forwarder.usable(reply) else { return next() }
            done(answer)
        }.start(timeout: share)
    }

    /// NOERROR and NXDOMAIN answers are passed on; SERVFAIL, REFUSED and the like send us
    /// to the next upstream.
    static func usable(_ reply: DNSMessage) -> UpstreamRecordCache.Answer? {
        guard reply.rcode == RCode.noError.rawValue || reply.rcode == RCode.nxDomain.rawValue, !reply.truncated else { return nil }
        return UpstreamRecordCache.Answer(rcode: reply.rcode, answer: reply.answers, authority: reply.authority, additional: reply.additional)
    }
}
