import CZlib
import Glibc
import ServerCore

/// Compresses a file with zlib in gzip format, one bounded chunk at a time, so a large
/// file never sits in memory whole, compressed or not.
final class GzipStream {
    enum Chunk: Equatable {
        case data([UInt8])
        case end
        case failed
    }

    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private let file: FileDescriptor
    private var offset: Int64
    private let remainingLimit: Int64
    private var finished = false
    private var input = [UInt8](repeating: 0, count: 64 * 1024)
    private var output = [UInt8](repeating: 0, count: 64 * 1024)

    /// Compresses `length` bytes of `file` from its start.
    init?(file: FileDescriptor, length: Int64, level: Int32) {
        self.file = file
        offset = 0
        remainingLimit = length
        stream.initialize(to: z_stream())
        guard czlib_deflate_init_gzip(stream, level) == Z_OK else {
            stream.deallocate()
            return nil
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    /// The next piece of compressed output (never empty), `.end` after the gzip trailer.
    func next() -> Chunk {
        var produced: [UInt8] = []
        while produced.isEmpty {
            if finished { return .end }
            let want = Int(min(Int64(input.count), remainingLimit - offset))
            let n = want > 0 ? input.withUnsafeMutableBytes { pread(file.fd, $0.baseAddress, want, off_t(offset)) } : 0
            guard n >= 0 else { return .failed }
            offset += Int64(n)
            let flush = n == 0 ? Z_FINISH : Z_NO_FLUSH
            guard deflateChunk(count: n, flush: flush, into: &produced) else { return .failed }
            if n == 0 { finished = true }
        }
        return .data(produced)
    }

    private func deflateChunk(count: Int, flush: Int32, into produced: inout [UInt8]) -> Bool {
        input.withUnsafeMutableBufferPointer { inBuffer in
            stream.pointee.next_in = inBuffer.baseAddress
            stream.pointee.avail_in = uInt(count)
            return output.withUnsafeMutableBufferPointer { outBuffer in
                while true {
                    stream.pointee.next_out = outBuffer.baseAddress
                    stream.pointee.avail_out = uInt(outBuffer.count)
                    let status = deflate(stream, flush)
                    guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else { return false }
                    produced.append(contentsOf: outBuffer[0..<(outBuffer.count - Int(stream.pointee.avail_out))])
                    if flush == Z_FINISH ? status == Z_STREAM_END : stream.pointee.avail_out != 0 { return true }
                }
            }
        }
    }
}
