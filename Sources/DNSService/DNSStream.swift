/// DNS over TCP without the socket (RFC 7766 8): the two-byte length framing, how many
/// queries are in flight, and whether to read on. `DNSStreamHandler` performs what it says.
///
/// What one connection can make the server hold, whatever the peer does:
/// - input: a read is taken only when no whole query waits, so the buffer holds less than
///   one largest framed message plus one read (65537 + 65536 octets with the worker's
///   64 KiB reads);
/// - in flight: at most `maxPending` queries;
/// - output: a query starts only while the unsent output plus the largest answers of those
///   in flight stays below `outputBudget`, so unsent output never passes it by more than
///   one largest answer (1 MiB + 65537 octets) however many queries were pipelined.
public struct DNSStream: Sendable {
    /// Queries answered at once on one connection; past it, reading waits.
    public static let maxPending = 16
    /// A message and its length prefix at their largest.
    public static let maxFramed = 2 + DNSMessage.maxSize
    /// Unsent output at which no further query starts: `Connection.outputIsFull`'s threshold.
    public static let outputBudget = 1024 * 1024

    /// Received bytes; those before `start` are taken and dropped at the next read, so
    /// pipelined queries cost one copy of the rest per read, not one per query.
    private var input: [UInt8] = []
    private var start = 0
    public private(set) var pending = 0
    public private(set) var peerClosed = false

    public init() {}

    /// Bytes received and not yet taken as queries.
    public var buffered: Int { input.count - start }

    /// Whether reading should go on: only when no whole query waits to be taken.
    public var wantsInput: Bool { waitingLength == nil }

    /// Right after `nextQuery` gave nil: a whole query waits, held back by unsent output
    /// rather than by the answers in flight (which come back to `answered`).
    public var waitsForOutput: Bool { waitingLength != nil && pending < DNSStream.maxPending }

    /// The peer will send nothing more and nothing is left to answer: close once flushed.
    public var isFinished: Bool { peerClosed && pending == 0 && waitingLength == nil }

    public mutating func received(_ bytes: some Collection<UInt8>) {
        if start > 0 {
            input.removeSubrange(..<start)
            start = 0
        }
        input.append(contentsOf: bytes)
    }

    public mutating func receivedEOF() { peerClosed = true }

    /// The next whole query, if one waits and another may start with `queuedOutput` bytes
    /// still unsent; the caller answers it and then calls `answered`.
    public mutating func nextQuery(queuedOutput: Int) -> [UInt8]? {
        guard pending < DNSStream.maxPending, queuedOutput + pending * DNSStream.maxFramed < DNSStream.outputBudget,
              let length = waitingLength else { return nil }
        let query = Array(input[(start + 2)..<(start + 2 + length)])
        start += 2 + length
        if start == input.count {
            // An idle connection keeps no input buffer (up to 128 KiB each, across thousands).
            input = []
            start = 0
        }
        pending += 1
        return query
    }

    /// A query was answered (nil: it deserves no reply); returns what to write. A reply
    /// past 65535 octets cannot be framed (the encoder never makes one) and is dropped.
    public mutating func answered(_ reply: [UInt8]?) -> [UInt8]? {
        pending -= 1
        guard let reply, let length = UInt16(exactly: reply.count) else { return nil }
        return [UInt8(length >> 8), UInt8(truncatingIfNeeded: length)] + reply
    }

    /// The length of the whole query at the front of the buffer; nil when none is complete.
    private var waitingLength: Int? {
        guard buffered >= 2 else { return nil }
        let length = Int(input[start]) << 8 | Int(input[start + 1])
        return buffered >= 2 + length ? length : nil
    }
}
