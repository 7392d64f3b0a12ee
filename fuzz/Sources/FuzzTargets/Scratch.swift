import Glibc
import ServerCore

/// A folder of the target's own under $TMPDIR (or /tmp), the only place a target writes.
/// It is removed when the process exits, since libFuzzer ends with exit().
enum Scratch {
    static func makeFolder(_ name: String) -> String {
        let parent = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(parent)/appserver-fuzz-\(name)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { fatalError("cannot make a folder under \(parent): errno \(errno)") }
        let path = String(cString: made)
        removeAtExit(path)
        return path
    }

    static func write(_ text: String, to path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { fatalError("cannot write \(path): errno \(errno)") }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count else { fatalError("short write to \(path)") }
    }

    /// Removes everything inside the folder open as `fd` (which stays).
    static func empty(_ fd: Int32) {
        guard let directory = fdopendir(dup(fd)) else { return }
        defer { closedir(directory) }
        var names: [String] = []
        while let item = readdir(directory) {
            let name = LocalFiles.name(of: item)
            if name != "." && name != ".." { names.append(name) }
        }
        for name in names {
            if unlinkat(fd, name, 0) == 0 { continue }
            let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard child >= 0 else { continue }
            empty(child)
            close(child)
            unlinkat(fd, name, AT_REMOVEDIR)
        }
    }

    nonisolated(unsafe) private static var folders: [String] = []

    private static func removeAtExit(_ path: String) {
        if folders.isEmpty {
            atexit {
                for folder in Scratch.folders {
                    let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                    if fd >= 0 {
                        Scratch.empty(fd)
                        close(fd)
                    }
                    rmdir(folder)
                }
            }
        }
        folders.append(path)
    }
}
