/// Splits a byte stream into LF-terminated lines (a CR before the LF is dropped) with a
/// cap on length: a longer line is reported once as `.tooLong` and its bytes up to the
/// next LF are thrown away as they arrive, so a line never costs more than `maxLength`.
public struct LineFramer: Sendable {
    public enum Event: Equatable, Sendable {
        case line([UInt8])
        case tooLong
        case needMore
    }

    /// The longest line accepted, counting its CRLF (SMTP and FTP both say 512).
    public let maxLength: Int
    private var buffer: [UInt8] = []
    private var start = 0
    private var discarding = false

    public init(maxLength: Int) {
        self.maxLength = maxLength
    }

    public var bufferedBytes: Int { buffer.count - start }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }

    public mutating func next() -> Event {
        while true {
            guard let newline = buffer[start...].firstIndex(of: 0x0A) else {
                if discarding || buffer.count - start > maxLength {
                    let wasDiscarding = discarding
                    discarding = true
                    buffer.removeAll(keepingCapacity: true)
                    start = 0
                    return wasDiscarding ? .needMore : .tooLong
                }
                return .needMore
            }
            var line = Array(buffer[start..<newline])
            start = newline + 1
            if discarding {
                discarding = false
                continue
            }
            if line.count + 1 > maxLength { return .tooLong }
            if line.last == 0x0D { line.removeLast() }
            return .line(line)
        }
    }

    /// Hands over whatever follows the lines taken so far (when the stream changes framing,
    /// as SMTP's DATA does).
    public mutating func takeRemaining() -> [UInt8] {
        defer {
            buffer.removeAll(keepingCapacity: true)
            start = 0
            discarding = false
        }
        return Array(buffer[start...])
    }
}
