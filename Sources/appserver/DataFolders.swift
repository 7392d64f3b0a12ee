import Glibc
import ServerCore

/// The folders the server writes (data, mail, spool, the FTP root): who owns them, who may
/// read them, and what to say when the server may not write them.
enum DataFolders {
    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    /// The group that reads the data folders: `--group`, else the group of the user who
    /// started the server through sudo (`SUDO_GID`), else the run user's own (nil).
    static func group(named name: String?) throws(Problem) -> gid_t? {
        if let name {
            guard let entry = getgrnam(name) else { throw Problem(description: "no such group '\(name)' (--group)") }
            return entry.pointee.gr_gid
        }
        return getenv("SUDO_GID").flatMap { StrictNumber.decimal(String(cString: $0), as: UInt32.self) }
    }

    /// Started as root: each folder goes to the run user and `group`, mode 2750, so the
    /// server writes it, the operator's group reads mail and uploads without root, and the
    /// setgid bit gives what the server creates inside the same group.
    static func hand(_ folders: [String], to uid: uid_t, group gid: gid_t, user: String) throws(Problem) {
        for folder in folders {
            guard chown(folder, uid, gid) == 0, chmod(folder, 0o2750) == 0 else {
                throw Problem(description: "cannot hand \(folder) to user '\(user)': \(errorText(errno))")
            }
        }
    }

    /// The folders the settings' services write.
    static func written(by settings: Settings) -> [String] {
        (settings.services.contains("smtp") ? [settings.data, settings.data + "/mail", settings.data + "/spool"] : [])
            + (settings.services.contains("ftp") ? [settings.ftpRoot] : [])
            + (settings.services.contains("dns") && !settings.dnsTransfer.secondaries.isEmpty ? [settings.data + "/dns"] : [])
    }

    /// Not root: a folder the server's user cannot write (or create) is an error now, not
    /// at the first delivery or upload, and it says who owns the folder at fault and who the
    /// server runs as.
    static func checkWritable(_ folders: [String]) throws(Problem) {
        for folder in folders {
            // The folder, or the nearest one above it that exists: where it will be created.
            var path = folder
            while access(path, F_OK) != 0 && errno == ENOENT && path != Settings.directory(of: path) {
                path = Settings.directory(of: path)
            }
            guard access(path, W_OK | X_OK) != 0 else { continue }
            let error = errno
            // A folder that cannot even be examined is closed by the one above it.
            var fault = path
            var info = stat()
            while stat(fault, &info) != 0 && fault != Settings.directory(of: fault) { fault = Settings.directory(of: fault) }
            throw Problem(description: "cannot write \(folder): \(errorText(error)); \(fault == folder ? "it" : fault) "
                + "\(owner(of: fault)), and the server runs as \(userName(geteuid()))")
        }
    }

    /// `is owned by nobody (group staff, mode 2750)`.
    static func owner(of path: String) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { return "cannot be examined (\(errorText(errno)))" }
        return "is owned by \(userName(info.st_uid)) (group \(groupName(info.st_gid)), mode \(String(info.st_mode & 0o7777, radix: 8)))"
    }

    static func userName(_ uid: uid_t) -> String {
        getpwuid(uid).map { String(cString: $0.pointee.pw_name) } ?? "uid \(uid)"
    }

    static func groupName(_ gid: gid_t) -> String {
        getgrgid(gid).map { String(cString: $0.pointee.gr_name) } ?? "gid \(gid)"
    }
}
