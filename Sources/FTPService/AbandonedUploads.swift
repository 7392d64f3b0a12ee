import CSystem
import Glibc
import Logging
import ServerCore

extension VirtualFS {
    /// Removes the temporary files of uploads that a killed process left (each up to a whole
    /// upload, hidden from listings), anywhere under the root, at start: before the server
    /// listens, no upload is under way. Folders are walked by their paths beneath the root
    /// (one descriptor open at a time, symlinks never followed). Logs each file; returns
    /// their virtual paths.
    @discardableResult
    public func removeAbandonedUploads(logger: Logger) -> [String] {
        var removed: [String] = []
        var folders = ["/"]
        while let path = folders.popLast() {
            let fd = csystem_open_beneath(root.fd, path == "/" ? "." : String(path.dropFirst()), O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
            guard fd >= 0, let directory = fdopendir(fd) else {
                if fd >= 0 { close(fd) }
                continue
            }
            defer { closedir(directory) }
            while let item = readdir(directory) {
                let name = LocalFiles.name(of: item)
                guard name != ".", name != ".." else { continue }
                var info = Glibc.stat()
                guard fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
                let child = VirtualFS.resolve(name, cwd: path)
                if info.st_mode & S_IFMT == S_IFDIR {
                    folders.append(child)
                } else if info.st_mode & S_IFMT == S_IFREG, name.hasPrefix(VirtualFS.uploadPrefix), unlinkat(fd, name, 0) == 0 {
                    // Folder names came from MKD: escaped like wire text.
                    logger.notice("ftp: removed \(LogEscape.escaped(child)), left by an interrupted upload")
                    removed.append(child)
                }
            }
        }
        return removed
    }
}
