import Dispatch
import ServerCore
import Synchronization

/// What opening a path below the root found.
struct OpenedFile: Sendable {
    let file: FileDescriptor
    let metadata: FileMetadata
    let isDirectory: Bool
    /// The whole file, for small files: read once per open, so a request costs no pread.
    let contents: [UInt8]?
    /// The header lines of a 200 for a request with no precondition, range or gzip,
    /// serialised once per open; nil for a directory.
    let plainHeaders: [UInt8]?
}

struct OpenError: Error, Sendable {
    let errno: Int32
}

/// Keeps what opening a path found (the open file and its metadata, or the error) for a
/// short while, as nginx's open_file_cache does, so that a busy site costs no openat2,
/// fstat and close per request. A changed file shows within `validity` seconds; a file
/// replaced by rename keeps being served whole from the old one until then.
final class OpenFileCache: Sendable {
    private struct Entry: Sendable {
        let value: Result<OpenedFile, OpenError>
        let expires: UInt64
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let validity: UInt64
    private let capacity: Int

    init(validity: Double, capacity: Int = 512) {
        self.validity = UInt64(validity * 1e9)
        self.capacity = capacity
    }

    func value(for path: String, open: (String) -> Result<OpenedFile, OpenError>) -> Result<OpenedFile, OpenError> {
        guard validity > 0 else { return open(path) }
        let now = DispatchTime.now().uptimeNanoseconds
        if let hit = entries.withLock({ $0[path] }), hit.expires > now { return hit.value }
        let value = open(path)
        entries.withLock { table in
            if table.count >= capacity {
                table = table.filter { $0.value.expires > now }
                if table.count >= capacity { table.removeAll() }
            }
            table[path] = Entry(value: value, expires: now + validity)
        }
        return value
    }
}
