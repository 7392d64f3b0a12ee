import Glibc
import ServerCore
import Synchronization

/// Delivers messages into Maildirs under `root`: `root/<domain>/<mailbox>/{tmp,new,cur}`.
/// Each copy is written to `tmp/` under a unique name (time, pid, sequence, host),
/// fsync'ed, then renamed into `new/` (as OpenSMTPD does), so a crash never leaves part
/// of a message in `new/`; what a crash leaves elsewhere is removed at start
/// (`removeCrashLeftovers`). A message being received is spooled to a file first, so
/// memory stays constant whatever its size.
public final class MaildirStore: Sendable {
    public let root: String
    let spoolFolder: String
    private let hostname: String
    private let sequence = Atomic<Int>(0)
    let clock: @Sendable () -> timespec

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// A folder only the server's user writes and its group reads (mail is private; the
    /// group is the operator's, see appserver's --group), with its parents.
    private static func createFolder(_ path: String) throws(Failure) {
        if let error = LocalFiles.createDirectories(path, mode: 0o750) {
            throw Failure(description: "cannot create \(path): \(errorText(error))")
        }
    }

    /// `clock` gives the wall time for file names (injected so tests can fix it).
    public init(data: String, hostname: String, clock: @escaping @Sendable () -> timespec = MaildirStore.now) throws(Failure) {
        root = data + "/mail"
        spoolFolder = data + "/spool"
        // Maildir names may not hold '/' or ':'; Dovecot writes them as \057 and \072.
        self.hostname = hostname.map { $0 == "/" ? "\\057" : $0 == ":" ? "\\072" : String($0) }.joined()
        self.clock = clock
        for folder in [root, spoolFolder] {
            try MaildirStore.createFolder(folder)
        }
    }

    public static func now() -> timespec {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return time
    }

    /// A name no other delivery uses: `<seconds>.M<microseconds>P<pid>Q<sequence>.<host>`.
    public func uniqueName() -> String {
        let time = clock()
        let n = sequence.add(1, ordering: .relaxed).newValue
        return "\(time.tv_sec).M\(time.tv_nsec / 1000)P\(getpid())Q\(n).\(hostname)"
    }

    /// A file the body is written to as it arrives: used by one queue at a time (the
    /// connection's while the message arrives, then the blocking pool's that delivers it);
    /// the lock, never contended, keeps a write after the discard off a reused descriptor.
    public final class Spool: Sendable {
        public let path: String
        let fd: Int32
        private struct State {
            var failed = false
            var discarded = false
        }
        private let state = Mutex(State())

        init(path: String, fd: Int32) {
            self.path = path
            self.fd = fd
        }

        public var failed: Bool { state.withLock { $0.failed } }

        public func write(_ bytes: [UInt8]) {
            state.withLock { state in
                guard !state.failed, !state.discarded, !bytes.isEmpty else { return }
                state.failed = !MaildirStore.writeAll(fd, bytes)
            }
        }

        /// Removes the file; called whatever the outcome, and at most once closes the fd
        /// (a second close could close a number reused by another connection's file).
        public func discard() {
            state.withLock { state in
                guard !state.discarded else { return }
                state.discarded = true
                close(fd)
                unlink(path)
            }
        }

        /// A spool dropped unused (a delivery the full blocking pool never ran) leaves no file.
        deinit { discard() }
    }

    public func spool() throws(Failure) -> Spool {
        let path = spoolFolder + "/" + uniqueName()
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(description: "cannot create \(path): \(errorText(errno))") }
        return Spool(path: path, fd: fd)
    }

    /// Delivers the spooled body to each mailbox, after the header lines `header` gives for
    /// it; returns the name of each copy. All or nothing: every copy is written to its
    /// `tmp/` and fsync'ed before any is renamed into `new/`, and on any failure the copies
    /// are removed again, so a client that retries after the 451 never duplicates one.
    public func deliver(_ spool: Spool, to recipients: [MailAddress], header: (MailAddress) -> [UInt8]) throws(Failure) -> [String] {
        guard !spool.failed else { throw Failure(description: "writing the spool file \(spool.path) failed") }
        var copies: [(folder: String, name: String)] = []
        do {
            for recipient in recipients {
                copies.append(try writeCopy(of: spool, for: recipient, header: header(recipient)))
            }
        } catch {
            for copy in copies { unlink(copy.folder + "/tmp/" + copy.name) }
            throw error
        }
        for (index, copy) in copies.enumerated() where rename(copy.folder + "/tmp/" + copy.name, copy.folder + "/new/" + copy.name) != 0 {
            let failure = Failure(description: "cannot deliver to \(copy.folder): \(errorText(errno))")
            for moved in copies[..<index] { unlink(moved.folder + "/new/" + moved.name) }
            for waiting in copies[index...] { unlink(waiting.folder + "/tmp/" + waiting.name) }
            throw failure
        }
        for copy in copies { MaildirStore.syncFolder(copy.folder + "/new") }
        return copies.map(\.name)
    }

    /// One recipient's copy, written and fsync'ed in its Maildir's `tmp/`.
    private func writeCopy(of spool: Spool, for recipient: MailAddress, header: [UInt8]) throws(Failure) -> (folder: String, name: String) {
        guard let mailbox = recipient.mailboxName else { throw Failure(description: "unsafe mailbox \(recipient)") }
        let folder = root + "/" + recipient.domain.lowercased() + "/" + mailbox
        for sub in ["tmp", "new", "cur"] {
            try MaildirStore.createFolder(folder + "/" + sub)
        }
        let name = uniqueName()
        let temporary = folder + "/tmp/" + name
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw Failure(description: "cannot create \(temporary): \(errorText(errno))") }
        let written = MaildirStore.writeAll(fd, header) && MaildirStore.copy(from: spool.fd, to: fd) && fsync(fd) == 0
        let error = errno
        close(fd)
        guard written else {
            unlink(temporary)
            throw Failure(description: "cannot write \(temporary): \(errorText(error))")
        }
        return (folder, name)
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { LocalFiles.writeAll(fd, $0) }
    }

    /// Copies the whole spool file in bounded chunks.
    private static func copy(from source: Int32, to destination: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var offset: off_t = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(source, $0.baseAddress, $0.count, offset) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return false }
            if n == 0 { return true }
            guard writeAll(destination, Array(buffer[0..<n])) else { return false }
            offset += off_t(n)
        }
    }

    /// The rename is durable once the folder itself is synced.
    private static func syncFolder(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
