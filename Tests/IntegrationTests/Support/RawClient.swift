import Foundation
import Glibc

/// A blocking TCP client for byte-exact conversations that no real client would have.
final class RawClient {
    let fd: Int32

    init(port: UInt16, timeout: Int = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let rc = withLoopback(port: port) { connect(fd, $0, $1) }
        guard rc == 0 else {
            let error = errno
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: error) ?? .ECONNREFUSED)
        }
    }

    deinit { close(fd) }

    /// The client's own port, as the server sees it.
    var localPort: UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return UInt16(bigEndian: address.sin_port)
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    /// Sends `bytes` from a thread of its own, so the test can stop reading while the server
    /// takes them (a client that pipelines and never reads).
    func sendInBackground(_ bytes: [UInt8]) {
        let fd = fd
        Thread.detachNewThread {
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return }
                sent += n
            }
        }
    }

    /// Reads until the server closes (or the timeout): everything it sent.
    func readAll() -> [UInt8] { read(atLeast: Int.max) }

    /// Reads at least `count` bytes, or what came before a close or the timeout.
    func read(atLeast count: Int) -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while out.count < count {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return out
    }

    /// Ends the conversation from this side.
    func hangUp() { shutdown(fd, Int32(SHUT_RDWR)) }

    /// True when the server closes the connection (read returns 0 or a reset) before the
    /// receive timeout; false when data arrives or the timeout passes with the connection open.
    func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, 0)
        if n == 0 { return true }
        return n < 0 && (errno == ECONNRESET || errno == EPIPE)
    }
}

/// Splits HTTP/1.1 responses with a Content-Length (or none, as 304) out of a byte stream.
struct RawResponse {
    let status: Int
    let headers: [String: String]
    let body: [UInt8]

    static func parseAll(_ bytes: [UInt8]) -> [RawResponse] {
        var responses: [RawResponse] = []
        var rest = bytes[...]
        while let end = rest.firstRange(of: Array("\r\n\r\n".utf8)) {
            let head = String(decoding: rest[rest.startIndex..<end.lowerBound], as: UTF8.self)
            rest = rest[end.upperBound...]
            let lines = head.components(separatedBy: "\r\n")
            let fields = lines[0].split(separator: " ")
            let status = fields.count > 1 ? Int(fields[1]) ?? 0 : 0
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            var body: [UInt8] = []
            if let length = headers["content-length"].flatMap(Int.init), status != 304 {
                body = Array(rest.prefix(length))
                rest = rest.dropFirst(length)
            }
            responses.append(RawResponse(status: status, headers: headers, body: body))
        }
        return responses
    }
}

/// 127.0.0.1:`port` as a sockaddr, for the tests' own sockets.
func withLoopback<R>(port: UInt16, _ body: (UnsafeMutablePointer<sockaddr>, socklen_t) -> R) -> R {
    var sin = sockaddr_in()
    sin.sin_family = sa_family_t(AF_INET)
    sin.sin_port = port.bigEndian
    sin.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    return withUnsafeMutablePointer(to: &sin) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
}

/// A listening socket on 127.0.0.1 and a free port, held to make a port "in use".
final class RawListener {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &sin) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(fd, address, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, address, &length) == 0
            }
        }
        guard ok else {
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EADDRINUSE)
        }
        self.fd = fd
        port = UInt16(bigEndian: sin.sin_port)
    }

    deinit { close(fd) }
}
