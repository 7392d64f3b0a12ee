import DNSService
import Foundation
import Logging
import ServerCore

/// The DNS service in this process on 127.0.0.1, UDP and TCP on one free port.
final class TestDNSServer {
    let registry: ListenerRegistry
    let port: UInt16
    let zones: ZoneStore
    let forwarder: Forwarder?

    /// The zones shipped in conf/zones: a realistic zone no test wrote for itself.
    static let shippedZones = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../conf/zones").standardized.path

    init(zones folder: String = TestDNSServer.shippedZones, upstreams: [SocketAddress] = [],
         allowRecursion: [IPNetwork] = IPNetwork.localAndPrivate, transfers: TransferPolicy = TransferPolicy(),
         tcpIdleTimeout: Double = 10) throws {
        zones = try ZoneStore(folder: folder)
        forwarder = upstreams.isEmpty ? nil
            : Forwarder(upstreams: upstreams, cache: UpstreamRecordCache { DispatchTime.now().uptimeNanoseconds / 1_000_000_000 })
        let responder = DNSResponder(zones: zones, forwarder: forwarder, allowRecursion: allowRecursion, transfers: transfers,
                                     logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        var config = DNSConfiguration(responder: responder)
        config.tcpIdleTimeout = tcpIdleTimeout
        registry = try ListenerRegistry(workers: 2)
        port = try TestDNSServer.bindBoth(registry, config)
        registry.start()
    }

    /// One port for TCP and UDP: a port the system gave for UDP, then TCP on it. (A free TCP
    /// port may be taken for UDP by another test's socket, so TCP first could fail.)
    private static func bindBoth(_ registry: ListenerRegistry, _ config: DNSConfiguration) throws -> UInt16 {
        var failure: Error?
        for _ in 0..<20 {
            let probe = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let port: UInt16 = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    guard bind(probe, $0, length) == 0, getsockname(probe, $0, &length) == 0 else { return 0 }
                    return UInt16(bigEndian: pointer.pointee.sin_port)
                }
            }
            close(probe)
            do {
                let tcp = try registry.addTCP(SocketAddress(ip: IPAddress("127.0.0.1")!, port: port), service: config.service)
                try registry.addUDP(tcp, handler: config.datagramHandler)
                return port
            } catch {
                failure = error
            }
        }
        throw failure ?? SocketError(.bind, address: SocketAddress(ip: IPAddress("127.0.0.1")!, port: 0), errno: EADDRINUSE)
    }

    var address: SocketAddress { SocketAddress(ip: IPAddress("127.0.0.1")!, port: port) }

    /// dig against this server; `+short`-style callers pass their own options.
    func dig(_ arguments: [String]) throws -> Tools.Result {
        try Tools.run("dig", ["@127.0.0.1", "-p", "\(port)", "+time=5", "+tries=1"] + arguments, timeout: 30)
    }

    func stop() {
        let done = DispatchSemaphore(value: 0)
        registry.shutdown(grace: 1) { done.signal() }
        done.wait()
    }

    deinit { registry.shutdown(grace: 0) {} }
}

/// Sends one UDP datagram and returns the reply, if one comes within `timeout` seconds.
func udpExchange(_ bytes: [UInt8], port: UInt16, timeout: Int = 2) -> [UInt8]? {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    defer { close(fd) }
    var tv = timeval(tv_sec: timeout, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    _ = withLoopback(port: port) { sendto(fd, bytes, bytes.count, 0, $0, $1) }
    var buffer = [UInt8](repeating: 0, count: 65535)
    let n = recv(fd, &buffer, buffer.count, 0)
    return n > 0 ? Array(buffer[0..<n]) : nil
}

/// A framed DNS message for a TCP stream.
func tcpFramed(_ message: [UInt8]) -> [UInt8] {
    LengthPrefixFramer.frame(message)!
}

/// A query for `name` and `type`, encoded.
func dnsQuery(_ name: String, _ type: RRType = .a, id: UInt16 = 1) -> [UInt8] {
    var query = DNSMessage()
    query.id = id
    query.recursionDesired = true
    query.questions = [.init(name: DNSName(name)!, type: type)]
    return query.encode()
}

/// Queries crafted to hurt, as exact bytes (the same as DNSServiceTests' HostileQueries).
enum HostileQueries {
    /// About `size` bytes (issue 11: 23 KB) of questions that are compression pointers into
    /// the middle of earlier questions' labels. Each block is a question whose name is three
    /// 63-octet labels of 0x3F (and one octet unique to the block), then a question of one
    /// label of zeros; a pointer to offset 6...62 of a block reads three other 63-octet
    /// labels ending in the zeros. Every such name has its own last label, so no compression
    /// can shorten its echo: ~197 octets for each 6-octet question, about 380 KB for 23 KB.
    /// A FORMERR that echoed every question could not be framed over TCP (the length prefix
    /// trapped) nor sent over UDP.
    static func questionsIntoLabels(size: Int = 23_000) -> [UInt8] {
        var bytes: [UInt8] = [0xBE, 0xEF, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]
        let txtIN: [UInt8] = [0x00, 0x10, 0x00, 0x01]
        var questions = 0
        var targets: [Int] = []
        // Blocks fill half the query, the pointers the rest; pointers hold 14 bits, so
        // every block lies below 0x3FFF.
        while bytes.count + 266 <= min(0x3FFF, size / 2) {
            let start = bytes.count
            var labels = [UInt8](repeating: 0x3F, count: 192)
            labels[191] = UInt8(0x80 + questions / 2)  // not a letter: no two blocks are equal even ignoring case
            bytes += labels + [0] + txtIN
            bytes += [0x3F] + [UInt8](repeating: 0, count: 63) + [0] + txtIN
            questions += 2
            targets += (6...62).map { start + $0 }
        }
        var next = 0
        while bytes.count + 6 <= size {
            let target = targets[next % targets.count]
            bytes += [0xC0 | UInt8(target >> 8), UInt8(truncatingIfNeeded: target)] + txtIN
            questions += 1
            next += 1
        }
        bytes[4] = UInt8(questions >> 8)
        bytes[5] = UInt8(truncatingIfNeeded: questions)
        return bytes
    }
}

/// Reads framed replies until `count` have come, the server closes, or a read times out.
func readTCPFrames(_ client: RawClient, count: Int) -> [[UInt8]] {
    var framer = LengthPrefixFramer()
    var frames: [[UInt8]] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        while case .message(let frame) = framer.next() { frames.append(frame) }
        guard frames.count < count else { return frames }
        let n = buffer.withUnsafeMutableBytes { recv(client.fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { return frames }
        framer.append(Array(buffer[0..<n]))
    }
}

func readTCPMessages(_ client: RawClient, count: Int) -> [DNSMessage] {
    readTCPFrames(client, count: count).compactMap { try? DNSMessage.decode($0) }
}

/// Sends all of `bytes` on `fd`, blocking while the peer does not read.
@Sendable func sendAll(_ bytes: [UInt8], on fd: Int32) {
    var sent = 0
    while sent < bytes.count {
        let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if n <= 0 { return }
        sent += n
    }
}
