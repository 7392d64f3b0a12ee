import DNSService
import Logging
import ServerCore

/// Zone transfers and TSIG: the input as a keys file (whatever loads has named keys with
/// secrets), and as a query to a responder that lets anyone transfer and knows one key.
/// A transfer's messages each decode, fit, and run from the SOA to the SOA; one-message
/// replies (refusals, TSIG errors, IXFR's SOA) decode; nothing over UDP streams.
enum DNSTransferTarget {
    static let target = FuzzTarget(name: "dns-transfer", summary: "AXFR/IXFR with TSIG, and the TSIG keys file") {
        let zones = DNSResponderTarget.loadSampleZones()
        let key = TSIGKey(name: DNSName("xfr.test.")!, algorithm: .sha256, secret: Array("fuzzing secret".utf8))
        let policy = TransferPolicy(allowed: [IPNetwork("0.0.0.0/0")!], keys: [key.name: key], clock: { 1_700_000_000 })
        let responder = DNSResponder(zones: zones, forwarder: nil, allowRecursion: [], transfers: policy, logger: DNSResponderTarget.quiet)
        return { data in run([UInt8](data), responder) }
    }

    static func run(_ input: [UInt8], _ responder: DNSResponder) {
        if let keys = try? TSIGKeyFile.parse(String(decoding: input, as: UTF8.self), path: "keys") {
            for (name, key) in keys { require(name == key.name && !name.labels.isEmpty, "key \(name) read as \(key.name)") }
        }
        switch responder.answer(input, from: DNSResponderTarget.client, over: .udp) {
        case .now(let reply): check(reply?.bytes, to: input)
        case .upstream: fatalError("a query went upstream with no forwarder")
        case .stream: fatalError("a transfer streams over UDP")
        }
        switch responder.answer(input, from: DNSResponderTarget.client, over: .tcp) {
        case .now(let reply): check(reply?.bytes, to: input)
        case .upstream: fatalError("a query went upstream with no forwarder")
        case .stream(var transfer, let finished):
            var records: [ResourceRecord] = []
            while let message = transfer.next() {
                require(message.count <= 65535, "a transfer message of \(message.count) octets")
                guard let decoded = try? DNSMessage.decode(message) else { fatalError("a transfer message does not decode") }
                require(decoded.id == UInt16(input[0]) << 8 | UInt16(input[1]), "a transfer message with another ID")
                records += decoded.answers
                require(transfer.messages < 100_000, "a transfer that does not end")
            }
            require(records.count >= 2 && records.first?.type == .soa && records.last == records.first, "a transfer not from SOA to SOA")
            _ = finished(transfer)
        }
    }

    static func check(_ reply: [UInt8]?, to input: [UInt8]) {
        guard let reply else {
            require(input.count < 12 || input[2] & 0x80 != 0, "no reply to a \(input.count)-byte query")
            return
        }
        require(reply.count <= 65535, "a reply of \(reply.count) octets")
        require((try? DNSMessage.decode(reply)) != nil, "a reply does not decode")
    }
}
