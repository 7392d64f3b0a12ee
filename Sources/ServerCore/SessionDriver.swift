import Dispatch
import Logging

/// Runs a `ConnectionSession` on a connection: the one place that decides when input is
/// taken (only while output has room and no held work is outstanding), when reading
/// pauses (past `inputLimit` bytes not yet taken), how blocking work is offloaded, and how
/// access lines are timed. Every protocol's TCP handler is one of these.
///
/// Timing, the same for every protocol: an exchange runs from the read that brought its
/// first byte to the access line that ends it (the last byte queued). It opens by itself at
/// the first step after the previous access line that has input waiting (an HTTP request, a
/// DNS query), or where the session says `.beginExchange` (SMTP's MAIL, an FTP transfer
/// command); an offload or wait carries the open exchange to its completion, so an answer
/// that comes later, or out of order, is timed from its own request. Input that waited behind
/// an exchange (pipelined) counts from that exchange's end, as nginx times pipelined
/// requests. The clock is read once when input arrives with none waiting, once per access
/// line, and not at all when access lines are not written.
///
/// Confined to its connection's queue (every call comes from it, completions through
/// `async`), hence `@unchecked Sendable`; each entry checks it (`assertConfined`, debug builds).
public final class SessionDriver<Session: ConnectionSession>: ConnectionHandler, @unchecked Sendable {
    public struct Configuration: Sendable {
        /// The word that starts its log lines (`http`, `smtp`).
        public let service: String
        public let logger: Logger
        public let pool: BlockingPool
        /// Input not yet taken past which the connection stops reading.
        public let inputLimit: Int
        /// Unsent output at which no further step is taken, when lower than the
        /// connection's own `outputIsFull` mark (HTTP keeps 256 KiB).
        public let outputLimit: Int
        /// Monotonic nanoseconds, for access lines' durations (tests inject one).
        public let clock: @Sendable () -> UInt64
        /// Each exchange's duration, as a histogram (nil: none).
        public let duration: PerCPUHistogram?
        /// Access lines are written, or durations recorded: only then is the clock read.
        public let timesExchanges: Bool
        /// Access lines are written.
        public var logsAccess: Bool { access.isEnabled }
        /// Where access lines go, as bytes.
        public let access: AccessLog

        public init(service: String, logger: Logger, pool: BlockingPool = .shared, inputLimit: Int = 64 * 1024,
                    outputLimit: Int = .max, duration: PerCPUHistogram? = nil,
                    clock: @escaping @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }) {
            self.service = service
            self.logger = logger
            self.pool = pool
            self.inputLimit = inputLimit
            self.outputLimit = outputLimit
            self.clock = clock
            self.duration = duration
            access = AccessLog(logger: logger)
            timesExchanges = access.isEnabled || duration != nil
        }
    }

    // Internal to the module but inlinable, so that each protocol's module specialises the
    // driver for its own session (unspecialised, it cost HTTP small-file requests ~5%).
    @usableFromInline var session: Session
    /// The session as it stands, for tests.
    public var current: Session { session }
    @usableFromInline let configuration: Configuration
    /// Offloads and holding waits not yet completed.
    @usableFromInline var held = 0
    /// When the input not yet taken began to arrive (nil: none waits, or untimed).
    @usableFromInline var inputSince: UInt64?
    /// `inputSince` as the current step began: where `.beginExchange` starts.
    @usableFromInline var stepInputSince: UInt64?
    /// The open exchange's start (nil: none open).
    @usableFromInline var exchangeSince: UInt64?
    @usableFromInline var readingPaused = false
    /// `.startTLS` was performed and the session has not heard of the handshake yet.
    @usableFromInline var awaitingTLS = false
    /// `service 4-tuple ` for access lines, made at the first.
    @usableFromInline var accessPrefix: [UInt8]?

    @inlinable
    public init(_ session: Session, _ configuration: Configuration) {
        self.session = session
        self.configuration = configuration
    }

    @inlinable
    public func connectionOpened(_ connection: any ConnectionContext) {
        connection.assertConfined()
        if let tls = connection.tls { perform(session.tlsStarted(tls), on: connection) }
        perform(session.start(), on: connection)
        run(connection)
    }

    @inlinable
    public func connection(_ connection: any ConnectionContext, received bytes: UnsafeRawBufferPointer) {
        connection.assertConfined()
        if configuration.timesExchanges && inputSince == nil { inputSince = configuration.clock() }
        // Nothing is read between STARTTLS and the end of its handshake: these bytes are the
        // first it decrypted.
        if awaitingTLS, let tls = connection.tls {
            awaitingTLS = false
            perform(session.tlsStarted(tls), on: connection)
        }
        session.receive(bytes)
        run(connection)
    }

    @inlinable
    public func connectionWritable(_ connection: any ConnectionContext) {
        connection.assertConfined()
        run(connection)
    }

    @inlinable
    public func connectionReceivedEOF(_ connection: any ConnectionContext) {
        connection.assertConfined()
        run(connection)
        if connection.isOpen { perform(session.peerClosed(), on: connection) }
    }

    @inlinable
    public func connectionShouldDrain(_ connection: any ConnectionContext) {
        connection.assertConfined()
        perform(session.drain(), on: connection)
    }

    @inlinable
    public func connectionClosed(_ connection: any ConnectionContext, reason: CloseReason) {
        connection.assertConfined()
        for case .log(let kind, let text) in session.closed(reason) { log(kind, text, connection) }
    }

    /// Takes steps until one has to wait: for input, for held work, or for the peer to read.
    @inlinable
    func run(_ connection: any ConnectionContext) {
        while connection.isOpen && held == 0 {
            if connection.outputIsFull || connection.pendingOutputBytes >= configuration.outputLimit {
                connection.notifyWhenWritable()
                break
            }
            stepInputSince = inputSince
            if exchangeSince == nil { exchangeSince = inputSince }
            let actions = session.step()
            if inputSince != nil && session.bufferedBytes == 0 { inputSince = nil }
            guard let actions else { break }
            perform(actions, on: connection)
        }
        let over = session.bufferedBytes > configuration.inputLimit
        if over != readingPaused {
            readingPaused = over
            if over { connection.pauseReading() } else { connection.resumeReading() }
        }
    }

    @inlinable
    func perform(_ actions: Session.Actions, on connection: any ConnectionContext) {
        for action in actions {
            switch action {
            case .write(let bytes): connection.write(bytes)
            case .writeFile(let file, let offset, let count): connection.write(file: file, offset: offset, count: count)
            case .closeAfterFlush(let lingering): connection.closeAfterFlush(lingering: lingering)
            case .close: connection.close()
            case .idleTimeout(let seconds): connection.setIdleTimeout(seconds)
            case .startTLS(let context):
                awaitingTLS = true
                connection.startTLS(context)
            case .log(let kind, let text): log(kind, text, connection)
            case .beginExchange: exchangeSince = stepInputSince
            case .offload(let work, let busy):
                held += 1
                let since = exchangeSince
                exchangeSince = nil
                let accepted = connection.offload(to: configuration.pool, work) { [self] connection, completion in
                    held -= 1
                    complete(completion, since: since, on: connection)
                }
                if !accepted {
                    held -= 1
                    log(.notice, "busy: the blocking pool is full", connection)
                    connection.write(busy)
                    connection.closeAfterFlush(lingering: true)
                }
            case .wait(let holdsInput, let begin):
                if holdsInput { held += 1 }
                let since = exchangeSince
                exchangeSince = nil
                begin { [self] completion in
                    connection.async { [self] connection in
                        if holdsInput { held -= 1 }
                        complete(completion, since: since, on: connection)
                    }
                }
            }
        }
    }

    /// A completion's actions, timed from the exchange its offload or wait carried; the
    /// exchange open meanwhile (another query's) stays open.
    @inlinable
    func complete(_ completion: Session.Completion, since: UInt64?, on connection: any ConnectionContext) {
        connection.assertConfined()
        let open = exchangeSince
        exchangeSince = since
        perform(session.complete(completion), on: connection)
        exchangeSince = open
        run(connection)
    }

    @inlinable
    func log(_ kind: LogKind, _ text: String, _ connection: any ConnectionContext) {
        let logger = configuration.logger
        switch kind {
        case .access:
            guard configuration.timesExchanges else { return }
            let now = configuration.clock()
            let since = exchangeSince ?? now
            exchangeSince = nil
            if inputSince != nil { inputSince = now }
            let nanos = now > since ? now - since : 0
            configuration.duration?.recordNanoseconds(Int64(clamping: nanos))
            guard configuration.access.isEnabled else { return }
            if accessPrefix == nil { accessPrefix = configuration.access.prefix(service: configuration.service, connection.id) }
            configuration.access.write(prefix: accessPrefix ?? [], text, nanos: nanos)
        case .info: logger.info("\(configuration.service) \(connection.logName) \(text)")
        case .notice: logger.notice("\(configuration.service) \(connection.logName) \(text)")
        case .error: logger.error("\(configuration.service) \(connection.logName) \(text)")
        }
    }
}
