/// Splits a byte stream into messages each preceded by its length in two bytes, big-endian
/// (DNS over TCP, RFC 1035 4.2.2 and RFC 7766 8), and frames messages the same way.
/// Taking a message costs its own bytes: the framer reads at an offset into its buffer and
/// compacts it only once the part taken is at least half, where a `removeFirst` per message
/// made pipelined input quadratic. A message longer than `maxLength` is reported once as
/// `.tooLong` and its bytes are dropped as they arrive, so it costs nothing to hold.
public struct LengthPrefixFramer: Sendable {
    public enum Event: Equatable, Sendable {
        case message([UInt8])
        case tooLong
        case needMore
    }

    /// The most two bytes can say.
    public static let largest = 65_535
    /// A largest message with its prefix.
    public static let largestFramed = 2 + largest

    public let maxLength: Int
    private var buffer: [UInt8] = []
    private var start = 0
    /// Bytes of a too-long message still to come, dropped as they arrive.
    private var skipping = 0

    public init(maxLength: Int = LengthPrefixFramer.largest) {
        self.maxLength = maxLength
    }

    /// Bytes received and not yet taken.
    public var bufferedBytes: Int { buffer.count - start }

    /// Whether `next` has a message (or a too-long one) to report without more bytes.
    public var hasMessage: Bool {
        guard let length = waitingLength else { return false }
        return length > maxLength || bufferedBytes >= 2 + length
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        let dropped = min(skipping, bytes.count)
        skipping -= dropped
        guard dropped < bytes.count else { return }
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeSubrange(..<start)
            start = 0
        }
        buffer.append(contentsOf: bytes[dropped...])
    }

    public mutating func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }

    public mutating func next() -> Event {
        guard let length = waitingLength else { return .needMore }
        if length > maxLength {
            let here = min(length, bufferedBytes - 2)
            take(2 + here)
            skipping = length - here
            return .tooLong
        }
        guard bufferedBytes >= 2 + length else { return .needMore }
        let message = Array(buffer[(start + 2)..<(start + 2 + length)])
        take(2 + length)
        return .message(message)
    }

    /// `message` with its length in front; nil past 65535 octets, which two bytes cannot say.
    public static func frame(_ message: [UInt8]) -> [UInt8]? {
        guard let length = UInt16(exactly: message.count) else { return nil }
        var framed: [UInt8] = []
        framed.reserveCapacity(2 + message.count)
        framed.append(UInt8(length >> 8))
        framed.append(UInt8(truncatingIfNeeded: length))
        framed.append(contentsOf: message)
        return framed
    }

    /// The length at the front of the buffer, once both its bytes are in.
    private var waitingLength: Int? {
        bufferedBytes >= 2 ? Int(buffer[start]) << 8 | Int(buffer[start + 1]) : nil
    }

    private mutating func take(_ count: Int) {
        start += count
        if start == buffer.count {
            // An idle connection keeps no input buffer (up to 128 KiB each, across thousands).
            buffer = []
            start = 0
        }
    }
}
