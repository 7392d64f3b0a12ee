import CZlib
import Foundation
import Glibc
import ServerCore
import Testing
@testable import HTTPService

/// Compress once, serve many: what the cache holds, when it compresses again, and its budget.
@Suite struct GzipCacheTests {
    let html = MIMETypes.lookup("a.html")

    func withFile(_ text: String, _ body: (String, FileDescriptor, FileMetadata) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("appserver-gzip-\(UUID().uuidString)").path
        defer { unlink(path) }
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDONLY)
        try #require(fd >= 0)
        try body(path, FileDescriptor(fd), FileMetadata(size: Int64(text.utf8.count), modified: 1000))
    }

    func gunzip(_ bytes: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        inflateInit2_(&stream, 31, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        defer { inflateEnd(&stream) }
        var input = bytes, output = [UInt8](repeating: 0, count: 1 << 20)
        let produced = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = uInt(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = uInt(outBuffer.count)
                return inflate(&stream, Z_FINISH) == Z_STREAM_END ? outBuffer.count - Int(stream.avail_out) : -1
            }
        }
        return produced < 0 ? [] : Array(output.prefix(produced))
    }

    @Test func compressesOnceAndServesTheSameBytes() throws {
        let text = String(repeating: "compress me once\n", count: 1000)
        try withFile(text) { path, fd, metadata in
            let cache = GzipCache()
            let first = try #require(cache.encoding(of: "a.html", metadata, file: fd, type: html)?.bytes)
            #expect(gunzip(first) == Array(text.utf8))
            #expect(first.count < text.utf8.count / 10)
            let stored = FileMetadata(size: Int64(first.count), modified: metadata.modified)
            #expect(cache.encoding(of: "a.html", metadata, file: fd, type: html)?.headers
                == HTTPResponseHead.lines(ResponsePlan.wholeHeaders(file: metadata, type: html, coding: .stored(stored))))
            // Changed on disk but with the same size and time: the held encoding is served.
            try Data(String(repeating: "X", count: text.utf8.count).utf8).write(to: URL(fileURLWithPath: path))
            #expect(cache.encoding(of: "a.html", metadata, file: fd, type: html)?.bytes == first)
            // A new modification time makes it compress again.
            let newer = FileMetadata(size: metadata.size, modified: 2000)
            let second = try #require(cache.encoding(of: "a.html", newer, file: fd, type: html)?.bytes)
            #expect(gunzip(second) == Array(repeating: UInt8(ascii: "X"), count: text.utf8.count))
        }
    }

    @Test func filesOverTheLimitAreLeftToTheStream() throws {
        try withFile(String(repeating: "y", count: 5000)) { _, fd, metadata in
            #expect(GzipCache(fileLimit: 4999).encoding(of: "a.html", metadata, file: fd, type: html)?.bytes == nil)
            #expect(GzipCache(fileLimit: 5000).encoding(of: "a.html", metadata, file: fd, type: html)?.bytes != nil)
        }
    }

    @Test func theBudgetDropsTheLeastRecentlyUsed() throws {
        try withFile(String(repeating: "z", count: 5000)) { _, fd, metadata in
            let one = try #require(GzipCache().encoding(of: "x", metadata, file: fd, type: html)?.bytes).count
            let cache = GzipCache(budget: one * 2)
            _ = cache.encoding(of: "a", metadata, file: fd, type: html)
            _ = cache.encoding(of: "b", metadata, file: fd, type: html)
            _ = cache.encoding(of: "a", metadata, file: fd, type: html)
            _ = cache.encoding(of: "c", metadata, file: fd, type: html)
            #expect(cache.heldPaths == ["a", "c"])
        }
    }
}
