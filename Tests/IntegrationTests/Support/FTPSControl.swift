import Glibc
import ServerCore

/// A control connection under TLS, spoken to line by line: AUTH TLS on the FTP port (or
/// implicit FTPS), then replies read through the session. `session` is what a data
/// connection resumes.
final class FTPSControl {
    let client: TLSTestClient
    private var buffer: [UInt8] = []

    /// `implicitTLS`: `port` is the FTPS one, TLS from the first byte.
    init(port: UInt16, implicitTLS: Bool = false) throws {
        client = try TLSTestClient(port: port)
        if implicitTLS {
            try client.handshake()
            _ = reply()
        } else {
            _ = FTPSControl.plainLine(client)
            client.sendRaw(Array("AUTH TLS\r\n".utf8))
            let answer = FTPSControl.plainLine(client)
            guard answer.hasPrefix("234 ") else { throw TLSError("AUTH TLS answered \(answer)") }
            try client.handshake()
        }
    }

    /// A reply line read from `client`'s raw socket, before its handshake.
    static func plainLine(_ client: TLSTestClient) -> String {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while !line.ends(with: [13, 10]), recv(client.fd, &byte, 1, 0) == 1 { line.append(byte) }
        return String(decoding: line.dropLast(2), as: UTF8.self)
    }

    /// The next reply (multi-line ones whole, as text with CRLFs; one-line ones without).
    func reply() -> String {
        while true {
            if let reply = FTPControl.takeReply(&buffer) { return reply }
            let more = client.read(atLeast: 1)
            if more.isEmpty { return "" }
            buffer += more
        }
    }

    @discardableResult
    func send(_ line: String) -> String {
        _ = client.write(line + "\r\n")
        return reply()
    }

    func login() {
        send("USER alice")
        send("PASS secret")
    }

    /// PBSZ 0 and PROT P: data connections over TLS.
    func protectData() -> Bool {
        send("PBSZ 0").hasPrefix("200") && send("PROT P").hasPrefix("200")
    }

    /// EPSV's port.
    func passivePort() -> UInt16? {
        let answer = send("EPSV")
        guard let open = answer.range(of: "(|||"), let close = answer.range(of: "|)") else { return nil }
        return StrictNumber.decimal(answer[open.upperBound..<close.lowerBound], as: UInt16.self)
    }

    /// A session to resume (TLS 1.3 tickets come after the handshake: a reply read first brings them).
    var session: TLSTestSession? { client.session }
}

extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
