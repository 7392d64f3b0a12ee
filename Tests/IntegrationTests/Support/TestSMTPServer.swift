import Foundation
import Logging
import ServerCore
import SMTPService
import Synchronization

/// The SMTP service in this process on 127.0.0.1 and a free port, storing into a temporary
/// folder; with `tls`, STARTTLS and SMTPS (on `smtpsPort`) with a certificate made in
/// `data/tls` for localhost and 127.0.0.1 (`cacert`).
final class TestSMTPServer {
    let data: TemporaryFolder
    let registry: ListenerRegistry
    let port: UInt16
    let smtpsPort: UInt16?
    /// What the service logged.
    let log: CapturedLog
    /// The most output any connection had waiting after one of the handler's calls.
    let outputPeak = OutputPeak()

    init(maxMessageSize: Int = 10 * 1024 * 1024, maxConnectionsPerAddress: Int = 100, idleTimeout: Double = 300,
         tls: SMTPSession.TLSPolicy = .off, handshakeTimeout: Double = 10) throws {
        let log = CapturedLog()
        self.log = log
        data = try TemporaryFolder("appserver-mail")
        let store = try MaildirStore(data: data.path, hostname: "mx.example.test")
        let policy = SMTPSession.Policy(hostname: "mx.example.test", domains: ["example.test"], maxMessageSize: maxMessageSize, tls: tls)
        // Loopback is not exempt here: the tests' clients are all on it.
        var config = SMTPConfiguration(policy: policy, store: store, logger: log.logger,
                                       perAddress: AddressLimit(maxPerAddress: maxConnectionsPerAddress, exempt: []))
        config.idleTimeout = idleTimeout
        if tls != .off {
            let (files, _) = try TLSSelfSigned.ensure(folder: data.path + "/tls", names: ["localhost"], addresses: [IPAddress("127.0.0.1")!])
            config.tls = try TLSContextHolder(files: [files], ticketKeys: TLSTicketKeys(), configuration: .init(alpn: SMTPConfiguration.alpn))
        }
        registry = try ListenerRegistry(workers: 2, limits: ConnectionLimits(handshakeTimeout: handshakeTimeout))
        let loopback = SocketAddress(ip: IPAddress("127.0.0.1")!, port: 0)
        port = try registry.addTCP(loopback, service: outputPeak.watching(config.service)).port
        if let smtps = config.implicitTLSService {
            smtpsPort = try registry.addTCP(loopback, service: outputPeak.watching(smtps)).port
        } else {
            smtpsPort = nil
        }
        registry.start()
    }

    var cacert: String { data.path + "/tls/cert.pem" }

    /// The messages in `user@example.test`'s new/ folder, oldest name first.
    func messages(_ user: String) -> [String] {
        let folder = data.path + "/mail/example.test/" + user + "/new"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        return names.compactMap { try? String(contentsOfFile: folder + "/" + $0, encoding: .utf8) }
    }

    /// Every file anywhere under the data folder's mail/ and spool/.
    var allFiles: [String] {
        let root = URL(fileURLWithPath: data.path)
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        return walker.compactMap { item in
            guard let url = item as? URL, (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { return nil }
            return url.path
        }
    }

    /// A raw SMTP conversation: sends `text` (after the greeting) and reads until the server closes.
    func converse(_ text: String) throws -> String {
        let client = try RawClient(port: port)
        _ = client.read(atLeast: 5)
        client.send(text)
        return String(decoding: client.readAll(), as: UTF8.self)
    }

    deinit { registry.shutdown(grace: 0) {} }
}

/// The lines a service logged, kept in memory: for tests that look for an access line.
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])

    var logger: Logger { Logger(label: "test") { _ in Handler(log: self) } }
    var all: [String] { lines.withLock { $0 } }

    /// The first line containing `text`, once one is logged (within `timeout`).
    func line(containing text: String, within timeout: Double = 5) -> String? {
        var found: String?
        _ = pollUntil(within: timeout) {
            found = all.first { $0.contains(text) }
            return found != nil
        }
        return found
    }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var logLevel = Logger.Level.info
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let text = event.message.description
            log.lines.withLock { $0.append(text) }
        }
    }
}

/// Whether `condition` holds within `timeout` seconds, asked every 20 ms: for waiting on a
/// state the server reaches in its own time, instead of sleeping and hoping.
func pollUntil(within timeout: Double = 5, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.02)
    }
    return try condition()
}

/// Records how much output a service's connections hold: wraps each handler and, after
/// every call into it (before the connection flushes), notes `pendingOutputBytes`.
final class OutputPeak: Sendable {
    private let peak = Atomic<Int>(0)

    var bytes: Int { peak.load(ordering: .relaxed) }

    func watching(_ service: TCPService) -> TCPService {
        TCPService(busyReply: service.busyReply, timeoutReply: service.timeoutReply, perAddress: service.perAddress,
                   perAddressReply: service.perAddressReply, refused: service.refused, tls: service.tls,
                   plaintextReply: service.plaintextReply) { [self] id in
            Watcher(service.makeHandler(id), peak: self)
        }
    }

    func note(_ connection: any ConnectionContext) {
        peak.max(connection.pendingOutputBytes, ordering: .relaxed)
    }

    private final class Watcher: ConnectionHandler {
        let inner: ConnectionHandler
        let peak: OutputPeak

        init(_ inner: ConnectionHandler, peak: OutputPeak) {
            self.inner = inner
            self.peak = peak
        }

        func connectionOpened(_ connection: any ConnectionContext) { inner.connectionOpened(connection); peak.note(connection) }
        func connection(_ connection: any ConnectionContext, received bytes: UnsafeRawBufferPointer) {
            inner.connection(connection, received: bytes)
            peak.note(connection)
        }
        func connectionReceivedEOF(_ connection: any ConnectionContext) { inner.connectionReceivedEOF(connection); peak.note(connection) }
        func connectionWritable(_ connection: any ConnectionContext) { inner.connectionWritable(connection); peak.note(connection) }
        func connectionShouldDrain(_ connection: any ConnectionContext) { inner.connectionShouldDrain(connection); peak.note(connection) }
        func connectionClosed(_ connection: any ConnectionContext, reason: CloseReason) { inner.connectionClosed(connection, reason: reason) }
    }
}
