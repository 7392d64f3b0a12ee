import DNSService

/// The DNS message codec: what decodes, encoded in at most `maxSize` bytes (for the sizes
/// UDP, EDNS and TCP allow), decodes again to the same message, less what the size left out.
enum DNSMessageTarget {
    static let target = FuzzTarget(name: "dns-message", summary: "DNS message decode, encode in a size, decode again, compare") {
        run
    }

    static func run(_ data: UnsafeRawBufferPointer) {
        guard let message = try? DNSMessage.decode([UInt8](data)) else { return }
        for maxSize in [512, 1232, 65535] {
            let bytes = message.encode(maxSize: maxSize)
            require(bytes.count <= maxSize, "encoded in \(bytes.count) bytes, more than \(maxSize)")
            let again: DNSMessage
            do {
                again = try DNSMessage.decode(bytes)
            } catch {
                fatalError("what we encoded does not decode (\(error)): \(bytes)")
            }
            // The OPT record always fits; its options only if they do, else they go and TC is set.
            var expected = message.edns
            if let edns = message.edns, !edns.options.isEmpty, again.edns?.options.isEmpty == true {
                require(again.truncated, "EDNS options left out without TC")
                expected?.options = []
            }
            require(again.edns == expected && again.rcode == message.rcode, "EDNS or RCODE differs")
            let complete = again.questions.count == message.questions.count && again.answers.count == message.answers.count
                && again.authority.count == message.authority.count && again.additional.count == message.additional.count
            if complete && again.truncated == message.truncated {
                require(again == message, "round trip differs:\n\(message)\n\(again)")
            } else {
                // Left out whole, from the end of a section: what is kept is a prefix.
                require(message.questions.starts(with: again.questions) && message.answers.starts(with: again.answers)
                        && message.authority.starts(with: again.authority) && message.additional.starts(with: again.additional),
                        "what fits is not a prefix")
                require(again.truncated || again.answers.count == message.answers.count && again.authority.count == message.authority.count,
                        "answer or authority records left out without TC")
            }
        }
    }
}
