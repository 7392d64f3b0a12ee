/// Reads a message after DATA (RFC 5321 4.1.1.4, 4.5.2): removes dot-stuffing and finds
/// the end, which is only ever CRLF "." CRLF. A bare LF or CR never ends a message or
/// starts a line (the SMTP smuggling class, CVE-2023-51764); a bare LF is stored as CRLF,
/// as Postfix's `smtpd_forbid_bare_newline = normalize` does. Everything else is kept
/// byte for byte. Past `limit` bytes the body is counted but no longer kept.
public struct DataReader: Sendable {
    private enum State { case lineStart, dot, dotCR, inLine, cr }

    public let limit: Int
    private var state = State.lineStart
    /// Bytes of message seen, whether kept or not.
    public private(set) var size = 0

    public var oversized: Bool { size > limit }

    public init(limit: Int) {
        self.limit = limit
    }

    /// Appends the message bytes in `input` to `output`; returns how many input bytes
    /// were consumed when the end was found (what follows is the next command), or nil.
    public mutating func read(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) -> Int? {
        for (index, byte) in input.enumerated() {
            switch state {
            case .lineStart:
                if byte == UInt8(ascii: ".") {
                    state = .dot
                } else {
                    inLine(byte, &output)
                }
            case .dot:
                // A stuffed dot: drop it, the rest of the line is message.
                if byte == 0x0D {
                    state = .dotCR
                } else {
                    inLine(byte, &output)
                }
            case .dotCR:
                if byte == 0x0A { return index + 1 }
                emit(0x0D, &output)
                inLine(byte, &output)
            case .cr:
                if byte == 0x0A {
                    emit(0x0D, &output)
                    emit(0x0A, &output)
                    state = .lineStart
                } else {
                    emit(0x0D, &output)
                    inLine(byte, &output)
                }
            case .inLine:
                inLine(byte, &output)
            }
        }
        return nil
    }

    private mutating func inLine(_ byte: UInt8, _ output: inout [UInt8]) {
        switch byte {
        case 0x0D:
            state = .cr
        case 0x0A:
            emit(0x0D, &output)
            emit(0x0A, &output)
            state = .inLine
        default:
            emit(byte, &output)
            state = .inLine
        }
    }

    private mutating func emit(_ byte: UInt8, _ output: inout [UInt8]) {
        size += 1
        if size <= limit { output.append(byte) }
    }
}
