import Glibc
import ServerCore

/// The zones folder, opened once when the server starts (before it drops privileges):
/// zone files and `$INCLUDE`s are opened relative to this descriptor and beneath it, so a
/// SIGHUP reload works when a folder above it is closed to the run user, and no path, `..`
/// or symlink leads out of it (the kernel refuses, with openat2's RESOLVE_BENEATH).
public struct ZoneFolder: Sendable {
    public let path: String
    let descriptor: FileDescriptor

    public init(_ path: String) throws(ZoneStore.LoadError) {
        switch LocalFiles.openDirectory(path) {
        case .success(let descriptor):
            self.path = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
            self.descriptor = descriptor
        case .failure(let error):
            throw ZoneStore.LoadError(description: "cannot open the zones folder \(path): \(error)")
        }
    }

    /// The names in the folder, hidden ones left out.
    func names() throws(ZoneStore.LoadError) -> [String] {
        switch LocalFiles.names(in: descriptor) {
        case .success(let names): return names.filter { !$0.hasPrefix(".") }
        case .failure(let error): throw ZoneStore.LoadError(description: "cannot read the zones folder \(path): \(error)")
        }
    }

    /// Why `name` cannot be read, as a zone error says it.
    enum ReadError: Error {
        case outside
        case failed(LocalFiles.Errno)
    }

    /// A zone file, by its name in the folder (a symlink may lead anywhere, as before).
    func readZone(_ name: String) -> Result<[UInt8], LocalFiles.Errno> {
        LocalFiles.read(name, in: descriptor, confined: false)
    }

    /// An included file: relative to the folder, or absolute if it spells out the folder's
    /// path; either way it must lie inside the folder.
    func readIncluded(_ name: String) -> Result<[UInt8], ReadError> {
        var relative = Substring(name)
        if name.hasPrefix("/") {
            guard name.hasPrefix(path + "/") else { return .failure(.outside) }
            relative = name.dropFirst(path.count + 1)
        }
        switch LocalFiles.read(String(relative), in: descriptor, confined: true) {
        case .success(let bytes): return .success(bytes)
        case .failure(let error) where error.code == EXDEV: return .failure(.outside)
        case .failure(let error): return .failure(.failed(error))
        }
    }

    func isDirectory(_ name: String) -> Bool { LocalFiles.isDirectory(name, in: descriptor) }

    /// `name` as a person finds it: inside the folder's path.
    func display(_ name: String) -> String { name.hasPrefix("/") ? name : path + "/" + name }
}
