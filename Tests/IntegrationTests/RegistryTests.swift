import Foundation
import Glibc
import ServerCore
import Testing

/// The listener registry with protocol-free handlers: what any service can count on.
@Suite struct RegistryTests {
    /// Echoes lines back, upper-cased, and reports its 4-tuple first.
    final class EchoHandler: ConnectionHandler {
        func connectionOpened(_ connection: any ConnectionContext) {
            connection.write(Array("hello \(connection.id)\n".utf8))
            connection.setIdleTimeout(5)
        }

        func connection(_ connection: any ConnectionContext, received bytes: UnsafeRawBufferPointer) {
            connection.write(bytes.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 32 : $0 })
        }
    }

    struct EchoDatagrams: DatagramHandler {
        func datagram(_ bytes: UnsafeRawBufferPointer, from remote: SocketAddress, reply: DatagramReply) {
            reply.send(Array("echo:".utf8) + Array(bytes))
        }
    }

    @Test func tcpHandlerSeesFourTupleAndBytes() throws {
        let registry = try ListenerRegistry(workers: 2)
        let bound = try registry.addTCP(SocketAddress(ip: IPAddress("127.0.0.1")!, port: 0),
                                        service: TCPService { _ in EchoHandler() })
        registry.start()
        defer { registry.shutdown(grace: 0) {} }
        let client = try RawClient(port: bound.port)
        let greeting = String(decoding: client.read(atLeast: 10), as: UTF8.self)
        #expect(greeting.hasPrefix("hello 127.0.0.1:"))
        #expect(greeting.hasSuffix(" -> 127.0.0.1:\(bound.port)\n"))
        client.send("abc")
        #expect(client.read(atLeast: 3) == Array("ABC".utf8))
    }

    /// A UDP socket for the test's side, with a 5 s receive timeout.
    func udpClient(_ family: Int32) -> Int32 {
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue), 0)
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    @Test func udpRepliesReachTheSender() throws {
        let registry = try ListenerRegistry(workers: 1)
        let bound = try registry.addUDP(SocketAddress(ip: IPAddress("127.0.0.1")!, port: 0), handler: EchoDatagrams())
        registry.start()
        defer { registry.shutdown(grace: 0) {} }
        let fd = udpClient(AF_INET)
        defer { close(fd) }
        let payload = Array("ping".utf8)
        _ = withLoopback(port: bound.port) { sendto(fd, payload, payload.count, 0, $0, $1) }
        var buffer = [UInt8](repeating: 0, count: 100)
        let n = recv(fd, &buffer, buffer.count, 0)
        #expect(n > 0 && Array(buffer[0..<max(n, 0)]) == Array("echo:ping".utf8))
    }

    /// Says which address the datagram came to; sent later from another queue when asked,
    /// as a forwarded answer is.
    struct WhereDatagrams: DatagramHandler {
        func datagram(_ bytes: UnsafeRawBufferPointer, from remote: SocketAddress, reply: DatagramReply) {
            let text = Array("to \(reply.local)".utf8)
            if bytes.first == UInt8(ascii: "L") {
                DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(20)) { reply.send(text) }
            } else {
                reply.send(text)
            }
        }
    }

    /// On a wildcard socket each answer leaves from the address asked (127.0.0.1 or
    /// 127.0.0.2, both on loopback), in a batch or alone, and the handler is told that address.
    @Test(arguments: ["now", "Later"])
    func wildcardUDPAnswersFromTheAddressAsked(_ when: String) throws {
        let registry = try ListenerRegistry(workers: 1)
        let bound = try registry.addUDP(SocketAddress(ip: IPAddress("0.0.0.0")!, port: 0), handler: WhereDatagrams())
        registry.start()
        defer { registry.shutdown(grace: 0) {} }
        let fd = udpClient(AF_INET)
        defer { close(fd) }
        for asked in ["127.0.0.1", "127.0.0.2"] {
            let target = SocketAddress(ip: IPAddress(asked)!, port: bound.port)
            let payload = Array(when.utf8)
            _ = target.withSockaddr { sendto(fd, payload, payload.count, 0, $0, $1) }
            var buffer = [UInt8](repeating: 0, count: 100)
            var from = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let n = withUnsafeMutablePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &length) }
            }
            #expect(String(decoding: buffer[0..<max(n, 0)], as: UTF8.self) == "to \(target)")
            let sin = withUnsafeBytes(of: &from) { $0.loadUnaligned(as: sockaddr_in.self) }
            #expect(sin.sin_addr.s_addr == inet_addr(asked), "the answer to \(asked) came from its own address")
            #expect(UInt16(bigEndian: sin.sin_port) == bound.port)
        }
    }

    @Test(.enabled(if: FreePort.familyAvailable(IPAddress("::1")!), "this host has no IPv6 loopback"))
    func wildcardIPv6AnswersFromTheAddressAsked() throws {
        let registry = try ListenerRegistry(workers: 1)
        let bound = try registry.addUDP(SocketAddress(ip: IPAddress("::")!, port: 0), handler: WhereDatagrams())
        registry.start()
        defer { registry.shutdown(grace: 0) {} }
        let fd = udpClient(AF_INET6)
        defer { close(fd) }
        let target = SocketAddress(ip: IPAddress("::1")!, port: bound.port)
        for payload in ["now", "Later"] {
            _ = target.withSockaddr { sendto(fd, payload, payload.utf8.count, 0, $0, $1) }
            var buffer = [UInt8](repeating: 0, count: 100)
            let n = recv(fd, &buffer, buffer.count, 0)
            #expect(String(decoding: buffer[0..<max(n, 0)], as: UTF8.self) == "to [::1]:\(bound.port)")
        }
    }

    @Test func bindErrorsCarryAddressAndErrno() throws {
        let registry = try ListenerRegistry(workers: 1)
        let first = try registry.addTCP(SocketAddress(ip: IPAddress("127.0.0.1")!, port: 0),
                                        service: TCPService { _ in EchoHandler() })
        #expect {
            try registry.addTCP(first, service: TCPService { _ in EchoHandler() })
        } throws: { error in
            (error as? SocketError)?.errno == EADDRINUSE && (error as? SocketError)?.address == first
        }
        registry.shutdown(grace: 0) {}
    }

    @Test func shutdownClosesIdleConnectionsAndCompletes() throws {
        let registry = try ListenerRegistry(workers: 2)
        let bound = try registry.addTCP(SocketAddress(ip: IPAddress("127.0.0.1")!, port: 0),
                                        service: TCPService { _ in EchoHandler() })
        registry.start()
        let client = try RawClient(port: bound.port)
        _ = client.read(atLeast: 10)
        #expect(registry.connectionCount == 1)
        let finished = DispatchSemaphore(value: 0)
        registry.shutdown(grace: 5) { finished.signal() }
        #expect(finished.wait(timeout: .now() + 5) == .success)
        #expect(client.isClosedByPeer())
        #expect((try? RawClient(port: bound.port)) == nil)
    }

    /// Says "ping" once open and reports what came back, or how it closed.
    final class Dialer: ConnectionHandler, @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        var outcome = ""

        func connectionOpened(_ connection: any ConnectionContext) { connection.write(Array("ping".utf8)) }

        func connection(_ connection: any ConnectionContext, received bytes: UnsafeRawBufferPointer) {
            outcome += String(decoding: bytes, as: UTF8.self)
            if outcome.hasSuffix("PING") { connection.close() }
        }

        func connectionClosed(_ connection: any ConnectionContext, reason: CloseReason) {
            if reason != .closedByServer { outcome = reason.rawValue }
            done.signal()
        }
    }

    @Test func listenWhileServingAndConnectOut() throws {
        let registry = try ListenerRegistry(workers: 2)
        registry.start()
        let handle = try registry.listen(SocketAddress(ip: IPAddress("127.0.0.1")!, port: 0), service: TCPService { _ in EchoHandler() })
        let dialer = Dialer()
        registry.connect(to: handle.address, from: IPAddress("127.0.0.1"), service: TCPService { _ in dialer }, timeout: 5)
        #expect(dialer.done.wait(timeout: .now() + 5) == .success)
        #expect(dialer.outcome.hasSuffix("PING"))
        let port = handle.address.port
        handle.stop()
        // The listener closes on its own queue: wait until a connect is refused.
        let deadline = Date().addingTimeInterval(5)
        while (try? RawClient(port: port)) != nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let refused = Dialer()
        registry.connect(to: SocketAddress(ip: IPAddress("127.0.0.1")!, port: port), from: nil, service: TCPService { _ in refused }, timeout: 5)
        #expect(refused.done.wait(timeout: .now() + 5) == .success)
        #expect(refused.outcome == "connect failed")
        registry.shutdown(grace: 0) {}
    }
}
