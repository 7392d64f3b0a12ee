import ServerCore
import Synchronization

/// Compress once, serve many: the gzip encoding of small compressible files, made on the
/// first request that asks for it and then served from memory with a Content-Length,
/// like a `.gz` file made ahead of time (nginx's gzip_static) but with nothing to make.
/// An entry is valid while the file keeps its size and modification time; the total is
/// held under a budget by dropping the least recently used.
public final class GzipCache: Sendable {
    /// A file's gzip encoding, its metadata and the header lines of a 200 that sends it
    /// whole, all made with it, so that a request for it formats nothing.
    struct Encoding: Equatable, Sendable {
        let bytes: [UInt8]
        let metadata: FileMetadata
        let headers: [UInt8]
    }

    private struct Entry {
        let size: Int64
        let modified: Int
        let encoding: Encoding
        var lastUse: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var total = 0
        var clock: UInt64 = 0
    }

    /// Larger files are compressed on the fly, chunk by chunk, instead.
    public let fileLimit: Int64
    private let budget: Int
    private let level: Int32
    private let state = Mutex(State())

    public init(fileLimit: Int64 = 1024 * 1024, budget: Int = 32 * 1024 * 1024, level: Int32 = 9) {
        self.fileLimit = fileLimit
        self.budget = budget
        self.level = level
    }

    /// The gzip encoding of `file` (at `path` below the root, of `type`), compressing it
    /// now if it is not held yet; nil if the file is over the limit or cannot be read.
    func encoding(of path: String, _ metadata: FileMetadata, file: FileDescriptor, type: MIMETypes.Entry,
                  hits: PerCPUCounters.Cell? = nil) -> Encoding? {
        guard metadata.size <= fileLimit else { return nil }
        let held: Encoding? = state.withLock { state in
            guard let entry = state.entries[path], entry.size == metadata.size, entry.modified == metadata.modified else { return nil }
            state.clock += 1
            state.entries[path]?.lastUse = state.clock
            return entry.encoding
        }
        if let held {
            hits?.increment()
            return held
        }
        guard let bytes = Self.compress(file, length: metadata.size, level: level) else { return nil }
        let stored = FileMetadata(size: Int64(bytes.count), modified: metadata.modified)
        let encoding = Encoding(bytes: bytes, metadata: stored, headers: HTTPResponseHead.lines(
            ResponsePlan.wholeHeaders(file: metadata, type: type, coding: .stored(stored))))
        state.withLock { state in
            state.total -= state.entries[path]?.encoding.bytes.count ?? 0
            state.clock += 1
            state.entries[path] = Entry(size: metadata.size, modified: metadata.modified, encoding: encoding, lastUse: state.clock)
            state.total += bytes.count
            while state.total > budget, let oldest = state.entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
                state.total -= oldest.value.encoding.bytes.count
                state.entries[oldest.key] = nil
            }
        }
        return encoding
    }

    /// The bytes held, for the metrics.
    public var heldBytes: Int { state.withLock { $0.total } }

    /// The paths held, in order (for tests).
    var heldPaths: [String] { state.withLock { $0.entries.keys.sorted() } }

    private static func compress(_ file: FileDescriptor, length: Int64, level: Int32) -> [UInt8]? {
        guard let stream = GzipStream(file: file, length: length, level: level) else { return nil }
        var bytes: [UInt8] = []
        while true {
            switch stream.next() {
            case .data(let chunk): bytes.append(contentsOf: chunk)
            case .end: return bytes
            case .failed: return nil
            }
        }
    }
}
