import CSystem
import Glibc
import ServerCore

/// The FTP root, the jail. Paths stay virtual (`/a/b`) until the last step: `..` can
/// never climb above `/`, and every file is reached through openat2(RESOLVE_BENEATH) from
/// the root's descriptor, so the kernel refuses symlinks that lead outside. Changes to a
/// name (create, delete, rename) act on that name inside a parent opened the same way.
public final class VirtualFS: Sendable {
    public struct Entry: Equatable, Sendable {
        public let name: String
        public let isDirectory: Bool
        public let size: Int64
        public let modified: Int
        public let mode: UInt32
        /// Device and inode, for MLSD's `unique` fact.
        public let unique: String
    }

    public enum Failure: Error, Equatable, Sendable {
        case notFound, denied, exists, notDirectory, isDirectory, notEmpty, invalidName
        case other(Int32)

        init(errno: Int32) {
            switch errno {
            case ENOENT, EXDEV, ELOOP: self = .notFound
            case EACCES, EPERM, EROFS: self = .denied
            case EEXIST: self = .exists
            case ENOTDIR: self = .notDirectory
            case EISDIR: self = .isDirectory
            case ENOTEMPTY: self = .notEmpty
            default: self = .other(errno)
            }
        }

        public var message: String {
            switch self {
            case .notFound: "No such file or directory"
            case .denied: "Permission denied"
            case .exists: "File exists"
            case .notDirectory: "Not a directory"
            case .isDirectory: "Is a directory"
            case .notEmpty: "Directory not empty"
            case .invalidName: "File name not allowed"
            case .other(let code): errorText(code)
            }
        }
    }

    /// Uploads are written under this prefix and renamed when complete; listings hide them.
    static let uploadPrefix = ".appserver-upload-"

    let root: FileDescriptor

    public struct MissingRoot: Error, CustomStringConvertible {
        public let description: String
    }

    public init(root path: String) throws(MissingRoot) {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw MissingRoot(description: "cannot use \(path) as the FTP root: \(errorText(errno))") }
        root = FileDescriptor(fd)
    }

    /// `argument` (absolute, or relative to `cwd`) as a normalised absolute virtual path.
    public static func resolve(_ argument: String, cwd: String) -> String {
        let joined = argument.hasPrefix("/") ? argument : cwd + "/" + argument
        var segments: [Substring] = []
        for part in joined.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(part)
            }
        }
        return "/" + segments.joined(separator: "/")
    }

    private static func relative(_ path: String) -> String {
        path == "/" ? "." : String(path.dropFirst())
    }

    private func open(_ path: String, _ flags: Int32) -> Result<FileDescriptor, Failure> {
        // A NUL would end the C string early and name another file than the one asked for.
        guard !path.utf8.contains(0) else { return .failure(.notFound) }
        let fd = csystem_open_beneath(root.fd, VirtualFS.relative(path), flags)
        return fd >= 0 ? .success(FileDescriptor(fd)) : .failure(Failure(errno: csystem_errno()))
    }

    private static func entry(_ fd: Int32, name: String) -> Result<Entry, Failure> {
        var info = Glibc.stat()
        guard fstat(fd, &info) == 0 else { return .failure(Failure(errno: errno)) }
        return .success(entry(info, name: name))
    }

    private static func entry(_ info: stat, name: String) -> Entry {
        Entry(name: name, isDirectory: info.st_mode & S_IFMT == S_IFDIR, size: Int64(info.st_size), modified: info.st_mtim.tv_sec,
              mode: info.st_mode, unique: String(info.st_dev, radix: 16) + "U" + String(info.st_ino, radix: 16))
    }

    public func stat(_ path: String) -> Result<Entry, Failure> {
        open(path, Int32(CSYSTEM_O_PATH)).flatMap { VirtualFS.entry($0.fd, name: VirtualFS.name(of: path)) }
    }

    public func isDirectory(_ path: String) -> Bool {
        (try? stat(path).get())?.isDirectory == true
    }

    /// A regular file opened for reading, with its metadata.
    public func openForReading(_ path: String) -> Result<(FileDescriptor, Entry), Failure> {
        open(path, O_RDONLY | O_NONBLOCK).flatMap { file in
            VirtualFS.entry(file.fd, name: VirtualFS.name(of: path)).flatMap { entry in
                guard !entry.isDirectory else { return .failure(.isDirectory) }
                guard entry.mode & S_IFMT == S_IFREG else { return .failure(.denied) }
                return .success((file, entry))
            }
        }
    }

    /// The entries of a directory, or of a single file. Symlinks are shown as what they
    /// lead to inside the root; one that leads outside is left out.
    public func list(_ path: String) -> Result<[Entry], Failure> {
        let opened: FileDescriptor
        switch open(path, O_RDONLY | O_NONBLOCK) {
        case .failure(let failure): return .failure(failure)
        case .success(let file): opened = file
        }
        switch VirtualFS.entry(opened.fd, name: VirtualFS.name(of: path)) {
        case .failure(let failure): return .failure(failure)
        case .success(let entry) where !entry.isDirectory: return .success([entry])
        case .success: break
        }
        guard let directory = fdopendir(dup(opened.fd)) else { return .failure(Failure(errno: errno)) }
        defer { closedir(directory) }
        var entries: [Entry] = []
        while let item = readdir(directory) {
            let name = LocalFiles.name(of: item)
            if name == "." || name == ".." || name.hasPrefix(VirtualFS.uploadPrefix) { continue }
            var info = Glibc.stat()
            guard fstatat(opened.fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFLNK {
                let child = VirtualFS.resolve(name, cwd: path)
                guard case .success(let target) = stat(child) else { continue }
                entries.append(Entry(name: name, isDirectory: target.isDirectory, size: target.size, modified: target.modified,
                                     mode: target.mode, unique: target.unique))
            } else {
                entries.append(VirtualFS.entry(info, name: name))
            }
        }
        return .success(entries.sorted { $0.name < $1.name })
    }

    /// The last name in a path; `/` for the root (and for an empty path, which has no name).
    static func name(of path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? "/"
    }

    /// The directory holding `path`, opened beneath the root, and the last name in it.
    private func parent(of path: String) -> Result<(FileDescriptor, String), Failure> {
        guard path != "/" else { return .failure(.denied) }
        let name = VirtualFS.name(of: path)
        guard !name.isEmpty, !name.hasPrefix(VirtualFS.uploadPrefix), !name.utf8.contains(0) else { return .failure(.invalidName) }
        let parentPath = VirtualFS.resolve("..", cwd: path)
        return open(parentPath, Int32(CSYSTEM_O_PATH) | O_DIRECTORY).map { ($0, name) }
    }

    private func perform(_ path: String, _ body: (Int32, String) -> Int32) -> Result<Void, Failure> {
        parent(of: path).flatMap { parent, name in
            body(parent.fd, name) == 0 ? .success(()) : .failure(Failure(errno: errno))
        }
    }

    public func makeDirectory(_ path: String) -> Result<Void, Failure> {
        perform(path) { mkdirat($0, $1, 0o755) }
    }

    public func removeDirectory(_ path: String) -> Result<Void, Failure> {
        perform(path) { unlinkat($0, $1, AT_REMOVEDIR) }
    }

    public func delete(_ path: String) -> Result<Void, Failure> {
        if isDirectory(path) { return .failure(.isDirectory) }
        return perform(path) { unlinkat($0, $1, 0) }
    }

    public func rename(_ from: String, to: String) -> Result<Void, Failure> {
        parent(of: from).flatMap { source, oldName in
            parent(of: to).flatMap { target, newName in
                renameat(source.fd, oldName, target.fd, newName) == 0 ? .success(()) : .failure(Failure(errno: errno))
            }
        }
    }

    /// An upload: written to a temporary name beside the file and renamed over it on
    /// success, so an aborted STOR never replaces a good file with part of one; APPE
    /// appends in place. REST copies the first `offset` bytes of the old file first, which
    /// blocks as long as the copy takes: run it on the BlockingPool (`FileRequest.store`).
    public func upload(_ path: String, offset: Int64, append: Bool) -> Result<Upload, Failure> {
        parent(of: path).flatMap { parent, name in
            if append {
                let fd = openat(parent.fd, name, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
                guard fd >= 0 else { return .failure(Failure(errno: errno)) }
                return .success(Upload(parent: parent, name: name, temporary: nil, fd: fd))
            }
            let temporary = VirtualFS.uploadPrefix + String(UInt64.random(in: 0...UInt64.max), radix: 36)
            let fd = openat(parent.fd, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            guard fd >= 0 else { return .failure(Failure(errno: errno)) }
            let upload = Upload(parent: parent, name: name, temporary: temporary, fd: fd)
            if offset > 0 {
                let existing = openat(parent.fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
                defer { if existing >= 0 { close(existing) } }
                var info = Glibc.stat()
                guard existing >= 0, fstat(existing, &info) == 0, Int64(info.st_size) >= offset,
                      upload.copy(from: existing, count: offset) else {
                    upload.abandon()
                    return .failure(.invalidName)
                }
            }
            return .success(upload)
        }
    }
}
