import CSystem
import Glibc
import ServerCore
import Synchronization

/// A file being received: opened (and, after REST, its start copied) on the blocking pool,
/// written on the data connection's queue, committed on the pool again: one owner at a
/// time, and the lock (never contended) makes a write after the close impossible, so a
/// reused descriptor number is never written.
public final class Upload: Sendable {
    private let parent: FileDescriptor
    private let name: String
    private let temporary: String?
    private let fd: Int32
    private struct State {
        var closed = false
        /// Bytes written since writeback was last started.
        var unflushed: Int64 = 0
    }
    private let state = Mutex(State())
    /// Writeback is started every this many bytes, so the disk works while data still
    /// arrives and the fsync before 226 finds little left to write.
    static let writebackStep: Int64 = 8 * 1024 * 1024

    init(parent: FileDescriptor, name: String, temporary: String?, fd: Int32) {
        self.parent = parent
        self.name = name
        self.temporary = temporary
        self.fd = fd
    }

    deinit { abandon() }

    public func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        state.withLock { state in
            guard !state.closed, LocalFiles.writeAll(fd, bytes) else { return false }
            state.unflushed += Int64(bytes.count)
            if state.unflushed >= Upload.writebackStep {
                // The whole file (offset 0, length 0): pages already written are skipped, and
                // appends and resumed uploads need no offsets.
                _ = csystem_start_writeback(fd, 0, 0)
                state.unflushed = 0
            }
            return true
        }
    }

    func copy(from source: Int32, count: Int64) -> Bool {
        var remaining = count
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var position: off_t = 0
        while remaining > 0 {
            let n = buffer.withUnsafeMutableBytes { pread(source, $0.baseAddress, Int(min(Int64($0.count), remaining)), position) }
            guard n > 0, buffer.withUnsafeBytes({ write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }) else { return false }
            remaining -= Int64(n)
            position += off_t(n)
        }
        return true
    }

    /// Makes the upload durable and puts it in place.
    public func commit() -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.closed = true
            let synced = fsync(fd) == 0
            close(fd)
            guard let temporary else { return synced }
            guard synced, renameat(parent.fd, temporary, parent.fd, name) == 0 else {
                unlinkat(parent.fd, temporary, 0)
                return false
            }
            return true
        }
    }

    /// Throws the upload away (the temporary file; an append keeps what it wrote), once.
    public func abandon() {
        state.withLock { state in
            guard !state.closed else { return }
            state.closed = true
            close(fd)
            if let temporary { unlinkat(parent.fd, temporary, 0) }
        }
    }
}
