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

    init(zones folder: String = TestDNSServer.shippedZones, upstreams: [SocketAddress] = []) throws {
        zones = try ZoneStore(folder: folder)
        forwarder = upstreams.isEmpty ? nil
            : Forwarder(upstreams: upstreams, cache: DNSCache { DispatchTime.now().uptimeNanoseconds / 1_000_000_000 })
        let responder = DNSResponder(zones: zones, forwarder: forwarder, allowRecursion: IPNetwork.localAndPrivate,
                                     logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let config = DNSConfiguration(responder: responder)
        registry = try ListenerRegistry(workers: 2)
        let tcp = try registry.addTCP(SocketAddress(ip: IPAddress("127.0.0.1")!, port: 0), service: config.service)
        try registry.addUDP(tcp, handler: config.datagramHandler)
        port = tcp.port
        registry.start()
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
