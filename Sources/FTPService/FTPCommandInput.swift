import ServerCore

/// The control connection's input, sans I/O: command lines (512 octets at most) kept in
/// order until the handler can act on them. ABOR alone is acted on out of turn, during a
/// transfer, so up to `lookahead` lines are framed ahead of time to look for it; the rest
/// stays as bytes in the framer. A fuzz target or a test drives it without a socket.
public struct FTPCommandInput: Sendable {
    public enum Line: Equatable, Sendable {
        case line([UInt8])
        /// A line over 512 octets (500 follows); its bytes were not kept.
        case tooLong
    }

    private var framer = LineFramer(maxLength: 512)
    private var framed: [Line] = []
    private var framedBytes = 0
    static let lookahead = 64

    public init() {}

    public mutating func receive(_ bytes: UnsafeRawBufferPointer) { framer.append(bytes) }

    public mutating func receive(_ bytes: [UInt8]) { framer.append(bytes) }

    /// Bytes received and not yet taken: what a peer that sends faster than it is answered
    /// makes us hold.
    public var bufferedBytes: Int { framer.bufferedBytes + framedBytes }

    /// The next line to act on, or nil until more bytes arrive.
    public mutating func next() -> Line? {
        guard framed.isEmpty else {
            let line = framed.removeFirst()
            if case .line(let bytes) = line { framedBytes -= bytes.count }
            return line
        }
        return frame()
    }

    /// Takes out an ABOR waiting among the next `lookahead` lines, if there is one.
    public mutating func takeAbort() -> Bool {
        while framed.count < FTPCommandInput.lookahead, let line = frame() {
            framed.append(line)
            if case .line(let bytes) = line { framedBytes += bytes.count }
        }
        guard let index = framed.firstIndex(where: { if case .line(let bytes) = $0 { FTPCommand(line: bytes) == .abor } else { false } }) else {
            return false
        }
        if case .line(let bytes) = framed.remove(at: index) { framedBytes -= bytes.count }
        return true
    }

    private mutating func frame() -> Line? {
        switch framer.next() {
        case .needMore: nil
        case .tooLong: .tooLong
        case .line(let bytes): .line(bytes)
        }
    }
}
