import DNSService
import Foundation
import ServerCore
import Testing

/// A primary that misbehaves on purpose: it accepts transfers on a loopback port and answers
/// each with a transfer that must fail, or with nothing at all.
final class HostilePrimary: @unchecked Sendable {
    enum Behaviour: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case noClosingSOA, outsideZone, lowerSerial, stall

        var testDescription: String { rawValue }

        /// What the secondary's log says of it.
        var logged: String {
            switch self {
            case .noClosingSOA: "no closing SOA: the primary closed the connection"
            case .outsideZone: "a record outside the zone: evil.example."
            case .lowerSerial: "the primary's serial 3 is lower than ours (5)"
            case .stall: "the connection stalled (15 s idle)"
            }
        }
    }

    let port: UInt16
    private let fd: Int32
    private let behaviour: Behaviour

    init(_ behaviour: Behaviour) throws {
        self.behaviour = behaviour
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        port = UInt16(bigEndian: address.sin_port)
        guard bound else { throw CocoaError(.fileWriteUnknown) }
        Thread.detachNewThread { [self] in serve() }
    }

    deinit { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }

    private func serve() {
        var held: [Int32] = []
        while true {
            let client = accept(fd, nil, nil)
            guard client >= 0 else { break }
            var query = [UInt8](repeating: 0, count: 4096)
            let n = recv(client, &query, query.count, 0)
            guard n >= 4 else { close(client); continue }
            let id = UInt16(query[2]) << 8 | UInt16(query[3])
            if behaviour == .stall {
                held.append(client)
                continue
            }
            let reply = LengthPrefixFramer.frame(message(id: id))!
            _ = reply.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            close(client)
        }
        held.forEach { close($0) }
    }

    private func message(id: UInt16) -> [UInt8] {
        let origin = DNSName("example.test.")!
        func soa(_ serial: UInt32) -> ResourceRecord {
            // The zone file parser makes it: it is the one public way to write an SOA.
            (try? ZoneFileParser.parse("@ 300 IN SOA ns1 h \(serial) 3600 600 86400 60\n", origin: origin))?.first
                ?? ResourceRecord(name: origin, type: .soa, ttl: 300, data: .unknown([]))
        }
        let www = ResourceRecord(name: DNSName("www.example.test.")!, type: .a, ttl: 300, data: .a([192, 0, 2, 66]))
        let evil = ResourceRecord(name: DNSName("evil.example.")!, type: .a, ttl: 300, data: .a([192, 0, 2, 66]))
        var message = DNSMessage()
        message.id = id
        message.isResponse = true
        message.authoritative = true
        message.questions = [.init(name: origin, type: .ixfr)]
        switch behaviour {
        case .noClosingSOA: message.answers = [soa(6), www]
        case .outsideZone: message.answers = [soa(6), www, evil, soa(6)]
        case .lowerSerial: message.answers = [soa(3), www, soa(3)]
        case .stall: break
        }
        return message.encode()
    }
}
