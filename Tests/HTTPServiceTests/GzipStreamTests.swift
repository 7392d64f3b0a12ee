import CZlib
import Foundation
import ServerCore
import Testing
@testable import HTTPService

@Suite struct GzipStreamTests {
    func inflate(_ data: [UInt8]) -> [UInt8]? {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var input = data
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        return input.withUnsafeMutableBufferPointer { inBuffer -> [UInt8]? in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = uInt(inBuffer.count)
            while true {
                let status = buffer.withUnsafeMutableBufferPointer { outBuffer -> Int32 in
                    stream.next_out = outBuffer.baseAddress
                    stream.avail_out = uInt(outBuffer.count)
                    let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    out.append(contentsOf: outBuffer[0..<(outBuffer.count - Int(stream.avail_out))])
                    return status
                }
                if status == Z_STREAM_END { return out }
                if status != Z_OK { return nil }
            }
        }
    }

    @Test(arguments: [0, 1, 1000, 200_000])
    func roundTrip(size: Int) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("appserver-gzip-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let original = (0..<size).map { UInt8(truncatingIfNeeded: $0 * 7 / 5) }
        try Data(original).write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDONLY)
        let stream = try #require(GzipStream(file: FileDescriptor(fd), length: Int64(size), level: 5))
        var compressed: [UInt8] = []
        var chunks = 0
        loop: while true {
            switch stream.next() {
            case .data(let data):
                #expect(!data.isEmpty)
                #expect(data.count <= 128 * 1024)
                compressed += data
                chunks += 1
            case .end: break loop
            case .failed: Issue.record("failed"); break loop
            }
        }
        #expect(Array(compressed.prefix(2)) == [0x1f, 0x8b])
        #expect(inflate(compressed) == original)
    }
}
