import Glibc
import ServerCore
import Synchronization

/// Certificates made for a test, a TLS service on a loopback port, and a handler whose
/// behaviour each test picks.
enum TLSFixtures {
    static let keys = try! TLSTicketKeys()

    static func certificate(_ name: String = "localhost") throws -> TLSCertificate {
        let (certificate, key) = try TLSSelfSigned.make(names: [name], addresses: [IPAddress("127.0.0.1")!])
        return try TLSCertificate(certificatePEM: certificate, keyPEM: key)
    }

    static func holder(_ certificates: [TLSCertificate]? = nil, alpn: [String] = [], kernelTLS: Bool = false) throws -> TLSContextHolder {
        try TLSContextHolder(certificates: certificates ?? [certificate()], ticketKeys: keys,
                             configuration: .init(alpn: alpn, kernelTLS: kernelTLS))
    }

    /// A fresh folder under /tmp, removed by `remove`.
    static func folder() -> String {
        var template = Array("/tmp/appserver-tls.XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    static func remove(_ folder: String) {
        for name in LocalFiles.names(in: folder) ?? [] { unlink(folder + "/" + name) }
        rmdir(folder)
    }
}

/// Runs a registry with one TLS (or plaintext) service on 127.0.0.1 and a free port.
final class TLSTestServer {
    let registry: ListenerRegistry
    let port: UInt16

    init(tls: TLSContextHolder?, limits: ConnectionLimits = ConnectionLimits(), plaintextReply: [UInt8] = [],
         handler: @escaping @Sendable () -> ConnectionHandler) throws {
        registry = try ListenerRegistry(workers: 1, limits: limits)
        let service = TCPService(tls: tls, plaintextReply: plaintextReply) { _ in handler() }
        port = try registry.addTCP(SocketAddress(ip: IPAddress("127.0.0.1")!, port: 0), service: service).port
        registry.start()
    }

    deinit { registry.shutdown(grace: 0) {} }
}

/// Lines in, answers out: `echo X` says X, `big N` sends N bytes of a pattern, `file N`
/// sends N bytes of a file, `starttls` says `go` and switches to TLS, dropping what it
/// holds; every line and the TLS state it came under are recorded.
final class LineHandler: ConnectionHandler, @unchecked Sendable {
    struct Seen: Sendable, Equatable {
        let line: String
        let tls: Bool
    }

    let seen = Mutex<[Seen]>([])
    let dropped = Mutex<[String]>([])
    let info = Mutex<TLSInfo?>(nil)
    private var framer = LineFramer(maxLength: 1024)
    private let startTLS: TLSContextHolder?
    private let file: FileDescriptor?

    init(startTLS: TLSContextHolder? = nil, file: FileDescriptor? = nil) {
        self.startTLS = startTLS
        self.file = file
    }

    func connection(_ connection: any ConnectionContext, received bytes: UnsafeRawBufferPointer) {
        framer.append(bytes)
        while case .line(let bytes) = framer.next() {
            let line = String(decoding: bytes, as: UTF8.self)
            seen.withLock { $0.append(Seen(line: line, tls: connection.tls != nil)) }
            if let tls = connection.tls { info.withLock { $0 = tls } }
            let words = line.split(separator: " ")
            switch (words.first, words.count > 1 ? Int(words[1]) : nil) {
            case ("echo", _): connection.write(Array((line.dropFirst(5) + "\n").utf8))
            case ("big", let count?):
                var sent = 0
                while sent < count {
                    let piece = min(60_000, count - sent)
                    connection.write((sent..<sent + piece).map { UInt8(truncatingIfNeeded: $0 % 251) })
                    sent += piece
                }
            case ("file", let count?):
                if let file { connection.write(file: file, offset: 0, count: Int64(count)) }
            case ("starttls", _):
                guard let startTLS else { break }
                connection.write(Array("go\n".utf8))
                connection.startTLS(startTLS.current)
                // Sent after the command, before the switch: never a command.
                let rest = framer.bufferedBytes
                if rest > 0 { dropped.withLock { $0.append("\(rest) bytes") } }
                framer = LineFramer(maxLength: 1024)
                return
            default: break
            }
        }
    }

    var lines: [Seen] { seen.withLock { $0 } }
}

/// Polls `condition` until it holds or `seconds` pass.
func eventually(_ seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = time(nil) + Int(seconds.rounded(.up))
    while !condition() {
        if time(nil) > deadline { return false }
        usleep(10_000)
    }
    return true
}

/// The pattern `big N` sends.
func pattern(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 % 251) } }
