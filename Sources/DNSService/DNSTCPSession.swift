import ServerCore

/// DNS over TCP (RFC 7766), and over TLS (RFC 7858: the same inside TLS), as `SessionDriver` runs it: length-prefixed queries, pipelined,
/// each answered as soon as it is ready: from our zones or the caches within its step, from
/// upstream later and possibly out of order. Each answer's access line is a `.log(.access)`,
/// which the driver times from its own query's first byte.
///
/// What one connection can make the server hold, whatever the peer does:
/// - input: reading pauses past one largest framed query (`inputLimit`), so less than
///   65537 octets plus one read (64 KiB) at most wait;
/// - in flight: at most `maxInFlight` queries upstream; at the bound no query is taken;
/// - output: no query is taken while output is full (the driver's rule, at 1 MiB), so
///   unsent output stays below 1 MiB plus one answer plus the answers in flight
///   (1 MiB + 17 × 65537 octets);
/// - a zone transfer: one message (16 KiB, rarely up to 64 KiB) is encoded per step, only
///   when output has room, and no query is taken until its last message has gone.
public struct DNSTCPSession: ConnectionSession {
    public enum Completion: Sendable {
        /// A query's answer from upstream.
        case answered(DNSResponder.Answer)
        /// Nothing to do but take the steps held back by the in-flight bound (see `complete`).
        case stepAgain
    }

    public static let maxInFlight = 16
    /// The driver's input bound: one whole largest query fits below it.
    public static let inputLimit = LengthPrefixFramer.largestFramed

    private let responder: DNSResponder
    private let client: ConnectionID
    private let idleTimeout: Double
    private let transport: DNSResponder.Transport
    private var framer = LengthPrefixFramer()
    private var inFlight = 0
    private var peerHasClosed = false
    /// The server is shutting down: no query is taken, those upstream are still answered.
    private var draining = false
    private var closing = false
    /// Bytes came since the last step: the idle clock starts again, as on every read.
    private var freshInput = false
    /// The zone transfer being written, and what to call once it has all gone.
    private var transfer: (messages: ZoneTransfer, finished: @Sendable (ZoneTransfer) -> String?)?

    /// `transport`: `.tls` when the connection is DNS over TLS (for the access lines).
    public init(responder: DNSResponder, client: ConnectionID, idleTimeout: Double, over transport: DNSResponder.Transport = .tcp) {
        self.responder = responder
        self.client = client
        self.idleTimeout = idleTimeout
        self.transport = transport
    }

    public var bufferedBytes: Int { framer.bufferedBytes }

    public mutating func start() -> Actions { [.idleTimeout(idleTimeout)] }

    public mutating func receive(_ bytes: UnsafeRawBufferPointer) {
        framer.append(bytes)
        freshInput = true
    }

    public mutating func step() -> Actions? {
        if freshInput {
            freshInput = false
            return [.idleTimeout(idleTimeout)]
        }
        guard !closing, !draining else { return nil }
        if let streaming = transfer { return nextTransferMessage(streaming) }
        guard inFlight < DNSTCPSession.maxInFlight else { return nil }
        switch framer.next() {
        case .needMore: return closeIfFinished()
        // Past 65535 octets: two bytes cannot say it, so the framer never reports one.
        case .tooLong: return []
        case .message(let query): return answer(query)
        }
    }

    public mutating func complete(_ completion: Completion) -> Actions {
        guard case .answered(let answer) = completion else { return [] }
        let wasAtBound = inFlight == DNSTCPSession.maxInFlight
        inFlight -= 1
        var actions = write(answer)
        if let close = closeIfFinished() {
            actions += close
        } else if wasAtBound {
            // The driver takes no step after a completion that does not hold input; a wait
            // that completes at once makes it take the queries the bound held back.
            actions.append(.wait(holdsInput: true) { done in done(.stepAgain) })
        }
        return actions
    }

    public mutating func peerClosed() -> Actions {
        peerHasClosed = true
        return closeIfFinished() ?? []
    }

    public mutating func drain() -> Actions {
        draining = true
        // A transfer cut short: the secondary sees no closing SOA and keeps its copy.
        transfer = nil
        return closeIfFinished() ?? []
    }

    /// One more message of the transfer, or, past its last, its access line and the next query.
    private mutating func nextTransferMessage(_ streaming: (messages: ZoneTransfer, finished: @Sendable (ZoneTransfer) -> String?)) -> Actions {
        var messages = streaming.messages
        guard let message = messages.next() else {
            transfer = nil
            var actions: Actions = streaming.finished(messages).map { [.log(.access, $0)] } ?? []
            actions += closeIfFinished() ?? []
            return actions
        }
        transfer = (messages, streaming.finished)
        return DNSTCPSession.write(message)
    }

    /// Each query's exchange begins at its own step, so one that gets no answer (and so no
    /// access line) is not counted into the next one's time.
    private mutating func answer(_ query: [UInt8]) -> Actions {
        switch responder.answer(query, from: client, over: transport) {
        case .now(let answer):
            return [.beginExchange] + (answer.map(write) ?? [])
        case .upstream(let begin):
            inFlight += 1
            return [.beginExchange, .wait(holdsInput: false) { done in begin { done(.answered($0)) } }]
        case .stream(let messages, let finished):
            transfer = (messages, finished)
            return [.beginExchange] + nextTransferMessage((messages, finished))
        }
    }

    /// Once the peer has closed: close when nothing is in flight and no whole query waits
    /// (a partial one will never be completed). Draining: once nothing is in flight.
    private mutating func closeIfFinished() -> Actions? {
        guard peerHasClosed || draining, !closing, inFlight == 0, transfer == nil, draining || !framer.hasMessage else { return nil }
        closing = true
        return [.closeAfterFlush(lingering: true)]
    }

    /// An answer framed, then its access line; one past 65535 octets cannot be framed (the
    /// encoder never makes one).
    private func write(_ answer: DNSResponder.Answer) -> Actions {
        var actions = DNSTCPSession.write(answer.bytes)
        if let access = answer.access(over: transport) { actions.append(.log(.access, access)) }
        return actions
    }

    private static func write(_ response: [UInt8]) -> Actions {
        LengthPrefixFramer.frame(response).map { [.write($0)] } ?? []
    }
}
