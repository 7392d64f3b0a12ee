/// FTP's ASCII type (RFC 959 3.1.1.1): lines end in CRLF on the wire and in LF on disk.
/// Each direction keeps the one byte of state that a line end split between two pieces needs.
enum ASCIIType {
    /// Downloads: LF becomes CRLF; a CRLF already there, even split across pieces, stays one.
    struct ToNetwork {
        private var lastSent: UInt8 = 0

        mutating func convert(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
            var converted: [UInt8] = []
            converted.reserveCapacity(bytes.count + bytes.count / 16)
            for byte in bytes {
                if byte == 0x0A && lastSent != 0x0D { converted.append(0x0D) }
                converted.append(byte)
                lastSent = byte
            }
            return converted
        }
    }

    /// Uploads: CRLF becomes LF; a lone CR stays, and a CR that ends a piece waits for the next.
    struct FromNetwork {
        private var pendingCR = false

        mutating func convert(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
            var converted: [UInt8] = []
            converted.reserveCapacity(bytes.count + 1)
            if pendingCR, bytes.first != 0x0A { converted.append(0x0D) }
            pendingCR = false
            var index = bytes.startIndex
            while index < bytes.endIndex {
                let byte = bytes[index]
                index += 1
                if byte == 0x0D {
                    guard index < bytes.endIndex else { pendingCR = true; break }
                    if bytes[index] == 0x0A { continue }
                }
                converted.append(byte)
            }
            return converted
        }

        /// What is still held at the end of the upload: a CR that no LF followed.
        mutating func finish() -> [UInt8] {
            defer { pendingCR = false }
            return pendingCR ? [0x0D] : []
        }
    }
}
