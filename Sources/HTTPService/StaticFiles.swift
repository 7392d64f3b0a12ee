import CSystem
import Glibc
import ServerCore
import Synchronization

/// The site folder. Files are opened with openat2(RESOLVE_BENEATH) relative to the root's
/// descriptor, so the kernel itself refuses any path, `..` or symlink, that would lead out
/// of the root, and no check-then-open race is left.
public final class StaticFiles: Sendable {
    public enum Lookup {
        /// `contents`: the whole file, when it is small enough to be kept with the open file.
        case file(FileDescriptor, FileMetadata, relativePath: String, contents: [UInt8]?, plainHeaders: [UInt8]?)
        /// A directory asked for without its trailing slash: redirect here.
        case redirect(String)
        case notFound
        case forbidden
        case failed(errno: Int32)
    }

    public struct MissingRoot: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "cannot serve \(path): \(reason)" }
    }

    private let root: FileDescriptor
    private let cache: OpenFileCache
    private let keepInMemory: Int64
    /// Pages made in place of the file at their path (the default page, with the ports of
    /// this run), on first use, as the ports are known only once bound: each kept in an
    /// unlinked temporary file, so that ETag, ranges, gzip and sendfile work as for any file.
    private let makers: [String: @Sendable () -> [UInt8]]
    private let made = Mutex<[String: OpenedFile]>([:])

    /// `cacheValidity`: how long what was found at a path is reused (0: look every time);
    /// files up to `keepInMemory` bytes are read when opened and kept with it.
    /// `generated`: what makes the bytes served at a relative path instead of the file there.
    public init(root path: String, cacheValidity: Double = 1, keepInMemory: Int64 = 32 * 1024,
                generated: [String: @Sendable () -> [UInt8]] = [:]) throws(MissingRoot) {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = errno == ENOTDIR ? "not a directory" : errorText(errno)
            throw MissingRoot(path: path, reason: reason)
        }
        root = FileDescriptor(fd)
        cache = OpenFileCache(validity: cacheValidity)
        self.keepInMemory = keepInMemory
        makers = generated
    }

    /// `relative` as `RequestPath` gives it: no leading slash, `""` for the root.
    public func lookup(_ relative: String, directorySyntax: Bool) -> Lookup {
        switch open(relative.isEmpty ? "." : relative) {
        case .failure(let error):
            return Self.classify(error.errno)
        case .success(let found) where !found.isDirectory:
            // `/plain.txt/` is not a second URL for the file (nginx and Apache answer 404):
            // relative links in it would resolve below a folder that does not exist.
            guard !directorySyntax else { return .notFound }
            return .file(found.file, found.metadata, relativePath: relative, contents: found.contents, plainHeaders: found.plainHeaders)
        case .success:
            guard directorySyntax else { return .redirect(RequestPath.encode(relative) + "/") }
            let index = relative.isEmpty ? "index.html" : relative + "/index.html"
            switch open(index) {
            case .success(let found) where !found.isDirectory:
                return .file(found.file, found.metadata, relativePath: index, contents: found.contents, plainHeaders: found.plainHeaders)
            case .success:
                return .notFound
            case .failure(let error):
                return Self.classify(error.errno)
            }
        }
    }

    /// The `.gz` file beside `relativePath`, if it is a regular file at least as new.
    public func precompressed(_ relativePath: String, original: FileMetadata) -> (FileDescriptor, FileMetadata, contents: [UInt8]?)? {
        guard case .success(let found) = open(relativePath + ".gz"), !found.isDirectory,
              found.metadata.modified >= original.modified else { return nil }
        return (found.file, found.metadata, found.contents)
    }

    private func open(_ relative: String) -> Result<OpenedFile, OpenError> {
        if let make = makers[relative] { return page(relative, make) }
        return cache.value(for: relative) { [root, keepInMemory] relative in StaticFiles.openBeneath(root, relative, keepInMemory: keepInMemory) }
    }

    private static func openBeneath(_ root: FileDescriptor, _ relative: String, keepInMemory: Int64) -> Result<OpenedFile, OpenError> {
        let fd = csystem_open_beneath(root.fd, relative, O_RDONLY | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { return .failure(OpenError(errno: csystem_errno())) }
        let file = FileDescriptor(fd)
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .failure(OpenError(errno: csystem_errno())) }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFREG || kind == S_IFDIR else { return .failure(OpenError(errno: EACCES)) }
        let size = Int64(info.st_size)
        var contents: [UInt8]?
        if kind == S_IFREG && size <= keepInMemory {
            var bytes = [UInt8](repeating: 0, count: Int(size))
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
            if n == Int(size) { contents = bytes }
        }
        let metadata = FileMetadata(size: size, modified: info.st_mtim.tv_sec)
        return .success(OpenedFile(file: file, metadata: metadata, isDirectory: kind == S_IFDIR, contents: contents,
                                   plainHeaders: kind == S_IFREG ? plainHeaders(relative, metadata) : nil))
    }

    private func page(_ relative: String, _ make: () -> [UInt8]) -> Result<OpenedFile, OpenError> {
        made.withLock { made in
            if let page = made[relative] { return .success(page) }
            let bytes = make()
            guard let file = StaticFiles.unlinkedFile(holding: bytes) else { return .failure(OpenError(errno: csystem_errno())) }
            let metadata = FileMetadata(size: Int64(bytes.count), modified: Int(time(nil)))
            let page = OpenedFile(file: file, metadata: metadata, isDirectory: false,
                                  contents: Int64(bytes.count) <= keepInMemory ? bytes : nil,
                                  plainHeaders: StaticFiles.plainHeaders(relative, metadata))
            made[relative] = page
            return .success(page)
        }
    }

    /// A temporary file with `bytes`, already unlinked.
    private static func unlinkedFile(holding bytes: [UInt8]) -> FileDescriptor? {
        var template = Array("/tmp/appserver-page-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return nil }
        let file = FileDescriptor(fd)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        guard bytes.withUnsafeBytes({ LocalFiles.writeAll(fd, $0) }) else { return nil }
        return file
    }

    /// What ResponsePlan decides for a GET with no precondition, range or gzip, serialised.
    private static func plainHeaders(_ relative: String, _ metadata: FileMetadata) -> [UInt8] {
        HTTPResponseHead.lines(ResponsePlan.wholeHeaders(file: metadata, type: MIMETypes.lookup(relative), coding: .identity))
    }

    /// errno to the answer, in one place (as Go's toHTTPError): what escapes the root or
    /// does not exist is 404 alike, so probing says nothing about what lies outside.
    private static func classify(_ errno: Int32) -> Lookup {
        switch errno {
        case ENOENT, ENOTDIR, ELOOP, EXDEV, ENAMETOOLONG: .notFound
        case EACCES, EPERM: .forbidden
        default: .failed(errno: errno)
        }
    }
}
