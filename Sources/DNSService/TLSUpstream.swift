import Dispatch
import Logging
import ServerCore

/// One upstream over TLS (RFC 7858), kept as Unbound keeps one: a connection reused for
/// every query while it lasts, queries pipelined on it and matched to replies by ID and
/// question (replies come in any order), the TLS session resumed when it reconnects (the
/// target keeps it). A connection that cannot open or does not verify fails its queries at
/// once, so the forwarder tries the next upstream, and the upstream is left alone for
/// `restAfterFailure`; one that closes after it opened (the upstream's idle timeout met our
/// query) has its unanswered queries asked once more on a new connection.
///
/// Confined to the forwarder's queue (`queue`), hence `@unchecked Sendable`; the
/// connection's handler runs on its worker's queue and hands everything over here.
final class TLSUpstream: @unchecked Sendable {
    /// Queries unanswered past this are refused at once (the next upstream gets them).
    static let maxPending = 256
    /// Below the 10 s servers commonly keep an idle connection (RFC 7766 6.2.3), so that we
    /// are the one to close it, not a server racing our next query.
    static let idleTimeout = 8.0
    static let connectTimeout = 5.0
    /// After a connection fails to open: queries go straight to the next upstream meanwhile.
    static let restAfterFailure = 5.0

    let upstream: Upstream
    private let target: TLSClientTarget
    private let registry: ListenerRegistry
    private let queue: DispatchQueue
    private let logger: Logger?
    private var link: Link?
    private var pending: [UInt16: Pending] = [:]
    private var nextToken: UInt64 = 0
    private var restingUntil: UInt64 = 0

    private struct Pending {
        let query: DNSMessage
        let token: UInt64
        let completion: (DNSMessage?) -> Void
        var link: Link?
        var retried = false
    }

    init(_ upstream: Upstream, target: TLSClientTarget, registry: ListenerRegistry, queue: DispatchQueue, logger: Logger?) {
        self.upstream = upstream
        self.target = target
        self.registry = registry
        self.queue = queue
        self.logger = logger
    }

    /// Calls `completion` once, on `queue`, with the reply, or nil within `timeout` seconds.
    func exchange(_ query: DNSMessage, timeout: Double, completion: @escaping (DNSMessage?) -> Void) {
        assertOnQueue(queue)
        guard pending.count < TLSUpstream.maxPending, DispatchTime.now().uptimeNanoseconds >= restingUntil else { return completion(nil) }
        var query = query
        // IDs tell pipelined replies apart: each unanswered query has its own.
        while pending[query.id] != nil { query.id = UInt16.random(in: 0...UInt16.max) }
        nextToken += 1
        let id = query.id, token = nextToken
        pending[id] = Pending(query: query, token: token, completion: completion)
        send(id)
        queue.asyncAfter(deadline: .now() + timeout) { [self] in
            if pending[id]?.token == token { finish(id, nil) }
        }
    }

    private func send(_ id: UInt16) {
        guard let query = pending[id]?.query, let bytes = LengthPrefixFramer.frame(query.encode()) else { return finish(id, nil) }
        let link = self.link ?? connect()
        pending[id]?.link = link
        link.send(bytes)
    }

    private func connect() -> Link {
        let link = Link()
        self.link = link
        let handler = Handler(link: link, upstream: self, queue: queue)
        registry.connect(to: upstream.address, from: nil, service: TCPService(clientTLS: target) { _ in handler },
                         timeout: TLSUpstream.connectTimeout)
        return link
    }

    private func finish(_ id: UInt16, _ reply: DNSMessage?) {
        guard let waiting = pending.removeValue(forKey: id) else { return }
        waiting.completion(reply)
    }

    // MARK: from the connection's handler, on `queue`

    fileprivate func opened(_ link: Link, _ connection: any ConnectionContext) {
        assertOnQueue(queue)
        link.open(connection)
    }

    fileprivate func received(_ bytes: [UInt8]) {
        assertOnQueue(queue)
        guard let reply = try? DNSMessage.decode(bytes), reply.isResponse, let waiting = pending[reply.id],
              reply.questions == waiting.query.questions else { return }
        finish(reply.id, reply)
    }

    fileprivate func lost(_ link: Link, _ reason: CloseReason) {
        assertOnQueue(queue)
        if self.link === link { self.link = nil }
        if !link.wasOpen {
            restingUntil = DispatchTime.now().uptimeNanoseconds + UInt64(TLSUpstream.restAfterFailure * 1e9)
            logger?.warning("dns: upstream \(upstream): \(reason.rawValue); trying the next for \(Int(TLSUpstream.restAfterFailure)) s")
        }
        for (id, waiting) in pending where waiting.link === link {
            if link.wasOpen && !waiting.retried {
                pending[id]?.retried = true
                send(id)
            } else {
                finish(id, nil)
            }
        }
    }
}

/// One connection to the upstream, as the forwarder's queue sees it: what to send once it
/// opens, then its context to send through. Confined to the forwarder's queue.
private final class Link: @unchecked Sendable {
    private var connection: (any ConnectionContext)?
    private var queued: [[UInt8]] = []
    private(set) var wasOpen = false

    func send(_ bytes: [UInt8]) {
        guard let connection else { return queued.append(bytes) }
        connection.async {
            $0.write(bytes)
            $0.setIdleTimeout(TLSUpstream.idleTimeout)
        }
    }

    func open(_ connection: any ConnectionContext) {
        self.connection = connection
        wasOpen = true
        let queued = self.queued
        self.queued = []
        connection.async { connection in queued.forEach(connection.write) }
    }
}

/// The connection's handler, on its worker's queue: replies framed out of the stream and
/// handed to the forwarder's queue; the idle clock restarted by every read and write.
private final class Handler: ConnectionHandler, @unchecked Sendable {
    private let link: Link
    private let upstream: TLSUpstream
    private let queue: DispatchQueue
    private var framer = LengthPrefixFramer()

    init(link: Link, upstream: TLSUpstream, queue: DispatchQueue) {
        self.link = link
        self.upstream = upstream
        self.queue = queue
    }

    func connectionOpened(_ connection: any ConnectionContext) {
        connection.setIdleTimeout(TLSUpstream.idleTimeout)
        queue.async { [self] in upstream.opened(link, connection) }
    }

    func connection(_ connection: any ConnectionContext, received bytes: UnsafeRawBufferPointer) {
        connection.setIdleTimeout(TLSUpstream.idleTimeout)
        framer.append(bytes)
        while case .message(let reply) = framer.next() {
            queue.async { [upstream] in upstream.received(reply) }
        }
    }

    /// The upstream will answer nothing more: its unanswered queries go elsewhere at once.
    func connectionReceivedEOF(_ connection: any ConnectionContext) { connection.close() }

    func connectionClosed(_ connection: any ConnectionContext, reason: CloseReason) {
        queue.async { [self] in upstream.lost(link, reason) }
    }
}
