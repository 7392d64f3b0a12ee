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
