import CSystem
import Glibc

/// The few file-system calls made outside the request paths (configuration, zones, the
/// users file, folders to create), on Glibc alone: the server does not load Foundation,
/// which would cost every process about 9 MB of resident memory.
public enum LocalFiles {
    /// A whole file, for configuration-sized files; nil if it cannot be read or is over `limit`.
    public static func read(_ path: String, limit: Int = 64 * 1024 * 1024) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return try? readAll(fd, limit: limit).get()
    }

    /// A folder opened once, so that what lies beneath it can still be read by descriptor
    /// when a folder above it is closed to the user the server later runs as.
    public static func openDirectory(_ path: String) -> Result<FileDescriptor, Errno> {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        return fd >= 0 ? .success(FileDescriptor(fd)) : .failure(Errno(errno))
    }

    /// A whole file at `relative` to `directory`. `confined`: opened beneath it (openat2 with
    /// RESOLVE_BENEATH: `..`, absolute paths and symlinks that would leave it fail with EXDEV);
    /// else with openat, symlinks followed wherever they lead.
    public static func read(_ relative: String, in directory: FileDescriptor, confined: Bool,
                            limit: Int = 64 * 1024 * 1024) -> Result<[UInt8], Errno> {
        let fd = confined ? csystem_open_beneath(directory.fd, relative, O_RDONLY | O_NOCTTY)
            : openat(directory.fd, relative, O_RDONLY | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(Errno(csystem_errno())) }
        defer { close(fd) }
        return readAll(fd, limit: limit)
    }

    /// Whether `relative` to `directory` is a folder (symlinks followed).
    public static func isDirectory(_ relative: String, in directory: FileDescriptor) -> Bool {
        var info = stat()
        return fstatat(directory.fd, relative, &info, 0) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    /// The names in an opened folder, without `.` and `..`.
    public static func names(in directory: FileDescriptor) -> Result<[String], Errno> {
        let fd = openat(directory.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(Errno(errno)) }
        guard let stream = fdopendir(fd) else {
            let error = errno
            close(fd)
            return .failure(Errno(error))
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = LocalFiles.name(of: entry)
            if name != "." && name != ".." { names.append(name) }
        }
        return .success(names)
    }

    /// An errno as an Error, its text for messages.
    public struct Errno: Error, Equatable, CustomStringConvertible {
        public let code: Int32
        public init(_ code: Int32) { self.code = code }
        public var description: String { errorText(code) }
    }

    private static func readAll(_ fd: Int32, limit: Int) -> Result<[UInt8], Errno> {
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return .failure(Errno(errno)) }
            if n == 0 { return .success(contents) }
            contents.append(contentsOf: buffer[0..<n])
            if contents.count > limit { return .failure(Errno(EFBIG)) }
        }
    }

    /// All of `bytes` to `fd`, past short writes and signals: false on the first error.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }

    /// Replaces `path` with `bytes` whole: written beside it, then renamed over it. The
    /// file keeps its permissions; a new one gets `mode`.
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) -> Bool {
        var info = stat()
        let mode = stat(path, &info) == 0 ? info.st_mode & 0o7777 : mode
        let temporary = path + ".new"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { return false }
        _ = fchmod(fd, mode)
        let written = bytes.withUnsafeBytes { writeAll(fd, $0) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written, synced, rename(temporary, path) == 0 else {
            unlink(temporary)
            return false
        }
        return true
    }

    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    /// A directory entry's name, read in place: readdir's record is only `d_reclen` bytes
    /// long, so copying the whole `dirent` (its 256-byte `d_name` with it) reads past the
    /// record (found by the ftp fuzz target under AddressSanitizer).
    public static func name(of entry: UnsafeMutablePointer<dirent>) -> String {
        let offset = MemoryLayout<dirent>.offset(of: \dirent.d_name) ?? 19
        let start = UnsafeRawPointer(entry) + offset
        let room = max(0, Int(entry.pointee.d_reclen) - offset)
        let bytes = UnsafeRawBufferPointer(start: start, count: room)
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// The names in a folder, without `.` and `..`; nil if it cannot be read.
    public static func names(in folder: String) -> [String]? {
        guard let directory = opendir(folder) else { return nil }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = LocalFiles.name(of: entry)
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Creates `path` and any missing folders above it (`mkdir -p`); the errno of the
    /// first failure, or nil.
    public static func createDirectories(_ path: String, mode: mode_t = 0o755) -> Int32? {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, mode) != 0 && errno != EEXIST { return errno }
        }
        return isDirectory(path) ? nil : ENOTDIR
    }

    /// `path` with `.` and `..` segments and repeated slashes folded, without touching the disk.
    public static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            switch part {
            case ".":
                continue
            case "..":
                if let last = parts.last, last != ".." {
                    parts.removeLast()
                } else if !path.hasPrefix("/") {
                    parts.append(part)
                }
            default:
                parts.append(part)
            }
        }
        let joined = parts.joined(separator: "/")
        return path.hasPrefix("/") ? "/" + joined : (joined.isEmpty ? "." : joined)
    }
}
