import DNSService

/// Zone file text: whatever loads as a zone can be served. Each record's wire form
/// decodes and encodes to the same bytes, and the answer to a question about each owner
/// and type fits a TCP message and decodes.
enum ZoneFileTarget {
    static let target = FuzzTarget(name: "zone", summary: "zone file text: parse, build the zone, encode and answer every record") {
        run
    }

    static let origin = DNSName("example.test.")!
    /// What `$INCLUDE hosts.inc` reads; any other name cannot be read.
    static let included = Array("host1 A 192.0.2.11\nhost2 300 IN AAAA 2001:db8::11\n".utf8)

    static func run(_ data: UnsafeRawBufferPointer) {
        let text = String(decoding: data, as: UTF8.self)
        guard let records = try? ZoneFileParser.parse(text, origin: origin, include: { $0 == "hosts.inc" ? included : nil }) else { return }
        let apex = records.first { $0.type == .soa }?.name ?? origin
        guard let zone = try? Zone(origin: apex, records: records) else { return }
        let authority = Authority(zones: [zone])
        for record in records {
            var message = DNSMessage()
            message.answers = [record]
            let bytes = message.encode()
            require(bytes.count <= 65535, "record \(record) encodes in \(bytes.count) bytes")
            let decoded: DNSMessage
            do {
                decoded = try DNSMessage.decode(bytes)
            } catch {
                fatalError("record \(record) loads but its wire form does not decode: \(error)")
            }
            require(decoded.answers.count == 1 && decoded.encode() == bytes, "record \(record) does not read back the same")

            let question = DNSMessage.Question(name: record.name, type: record.type)
            guard let answer = authority.answer(question) else { continue }
            var response = DNSMessage()
            response.isResponse = true
            response.questions = [question]
            response.rcode = answer.rcode.rawValue
            response.answers = answer.answer
            response.authority = answer.authority
            response.additional = answer.additional
            let reply = response.encode(maxSize: 65535)
            require(reply.count <= 65535, "the answer for \(question) encodes in \(reply.count) bytes")
            require((try? DNSMessage.decode(reply)) != nil, "the answer for \(question) does not decode")
        }
    }
}
