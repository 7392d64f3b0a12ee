import Foundation
import FTPService
import Logging
import ServerCore

/// The FTP service in this process on 127.0.0.1: user `alice`, password `secret`, a temporary root.
final class TestFTPServer {
    let base: TemporaryFolder
    let registry: ListenerRegistry
    let port: UInt16
    /// What the service logged.
    let log: CapturedLog
    /// The most output any control connection had waiting after one of the handler's calls.
    let outputPeak = OutputPeak()
    /// With TLS: implicit FTPS's port, and the certificate clients trust (`cacert`).
    private(set) var ftpsPort: UInt16 = 0

    var root: String { base.path + "/root" }
    var url: String { "ftp://127.0.0.1:\(port)" }
    var cacert: String { base.path + "/cert.pem" }

    init(anonymous: Bool = false, maxConnectionsPerAddress: Int = 50, passivePorts: ClosedRange<UInt16>? = nil,
         idleTimeout: Double = 300, passiveAddress: String? = nil,
         tls: FTPSession.TLSPolicy? = nil, tlsReuse: Bool = true, handshakeTimeout: Double = 10) throws {
        let log = CapturedLog()
        self.log = log
        base = try TemporaryFolder("appserver-ftp")
        try FileManager.default.createDirectory(atPath: base.path + "/root", withIntermediateDirectories: true)
        let hash = PasswordFile.hash("secret") ?? "!"
        var config = FTPConfiguration(fs: try VirtualFS(root: base.path + "/root"), users: FTPUsers(try PasswordFile(text: "alice:\(hash)\n")),
                                      anonymous: anonymous, registry: try ListenerRegistry(workers: 2, limits: ConnectionLimits(handshakeTimeout: handshakeTimeout)),
                                      passivePorts: passivePorts,
                                      logger: log.logger,
                                      perAddress: AddressLimit(maxPerAddress: maxConnectionsPerAddress, exempt: []))
        config.idleTimeout = idleTimeout
        config.passiveAddress = passiveAddress.flatMap(IPAddress.init)
        if let tls {
            // For localhost and 127.0.0.1, as the generated one is: clients verify it with `cacert`.
            let (certificate, key) = try TLSSelfSigned.make(names: ["localhost"], addresses: [IPAddress("127.0.0.1")!])
            try base.write("cert.pem", certificate)
            config.tls = try TLSContextHolder(certificates: [try TLSCertificate(certificatePEM: certificate, keyPEM: key)],
                                              ticketKeys: try TLSTicketKeys(), configuration: .init(alpn: ["ftp"]))
            config.tlsPolicy = tls
            config.tlsReuse = tlsReuse
        }
        registry = config.registry
        port = try registry.addTCP(SocketAddress(ip: IPAddress("127.0.0.1")!, port: 0), service: outputPeak.watching(config.service)).port
        if tls != nil {
            ftpsPort = try registry.addTCP(SocketAddress(ip: IPAddress("127.0.0.1")!, port: 0), service: config.implicitTLSService).port
        }
        registry.start()
    }

    func write(_ relative: String, _ bytes: [UInt8]) throws { try base.write("root/" + relative, bytes) }
    func read(_ relative: String) -> [UInt8]? { base.read("root/" + relative) }

    deinit { registry.shutdown(grace: 0) {} }
}

/// A control connection spoken to line by line.
final class FTPControl {
    let client: RawClient
    private var buffer: [UInt8] = []

    init(port: UInt16) throws {
        client = try RawClient(port: port)
        _ = reply()
    }

    /// The next complete reply (multi-line ones whole), as text.
    func reply() -> String {
        while true {
            if let reply = FTPControl.takeReply(&buffer) { return reply }
            let more = client.read(atLeast: 1)
            if more.isEmpty { return "" }
            buffer += more
        }
    }

    /// The first whole reply in `buffer`, taken out of it: a one-line reply without its CRLF,
    /// a multi-line one through its `NNN ` line with CRLFs; nil until one is whole.
    static func takeReply(_ buffer: inout [UInt8]) -> String? {
        let lines = String(decoding: buffer, as: UTF8.self).components(separatedBy: "\r\n")
        guard lines.count > 1, let first = lines.first else { return nil }
        guard first.count >= 4, first.dropFirst(3).first == "-" else {
            buffer.removeFirst(first.utf8.count + 2)
            return first
        }
        guard let end = lines.dropFirst().firstIndex(where: { $0.hasPrefix(first.prefix(3) + " ") }) else { return nil }
        let consumed = lines[0...end].joined(separator: "\r\n") + "\r\n"
        buffer.removeFirst(consumed.utf8.count)
        return consumed
    }

    @discardableResult
    func send(_ line: String) -> String {
        client.send(line + "\r\n")
        return reply()
    }

    func login() {
        send("USER alice")
        send("PASS secret")
    }

    /// EPSV's port.
    func passivePort() -> UInt16? {
        let answer = send("EPSV")
        guard let open = answer.range(of: "(|||"), let close = answer.range(of: "|)") else { return nil }
        return UInt16(answer[open.upperBound..<close.lowerBound])
    }
}

/// A TCP connection to 127.0.0.1:`port` from a chosen loopback address.
func connect(port: UInt16, from source: String) -> Int32? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var local = sockaddr_in()
    local.sin_family = sa_family_t(AF_INET)
    inet_pton(AF_INET, source, &local.sin_addr)
    var tv = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard bound == 0, withLoopback(port: port, { Glibc.connect(fd, $0, $1) }) == 0 else {
        close(fd)
        return nil
    }
    return fd
}
