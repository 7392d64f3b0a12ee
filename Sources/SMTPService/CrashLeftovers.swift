import Glibc
import Logging
import ServerCore

extension MaildirStore {
    /// maildir(5): a file in `tmp/` untouched for 36 hours is a delivery that died.
    public static let staleTemporaryAge = 36 * 3600

    /// Removes what a killed process left behind, at start: every spool file (a message
    /// being received or delivered: before the server listens, none is), and files in a
    /// Maildir's `tmp/` older than 36 hours (a newer one may be another program's delivery
    /// still under way). Logs a count per folder; returns the paths removed.
    @discardableResult
    public func removeCrashLeftovers(logger: Logger) -> [String] {
        var removed = MaildirStore.removeFiles(in: spoolFolder, logger: logger) { _ in true }
        let oldest = clock().tv_sec - MaildirStore.staleTemporaryAge
        for domain in LocalFiles.names(in: root) ?? [] {
            for mailbox in LocalFiles.names(in: root + "/" + domain) ?? [] {
                removed += MaildirStore.removeFiles(in: root + "/" + domain + "/" + mailbox + "/tmp", logger: logger) { $0.st_mtim.tv_sec < oldest }
            }
        }
        return removed
    }

    /// Removes the regular files of `folder` that `stale` picks (never a link or folder).
    private static func removeFiles(in folder: String, logger: Logger, _ stale: (stat) -> Bool) -> [String] {
        var removed: [String] = []
        for name in LocalFiles.names(in: folder) ?? [] {
            let path = folder + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, stale(info), unlink(path) == 0 else { continue }
            removed.append(path)
        }
        if !removed.isEmpty { logger.notice("smtp: removed \(removed.count) file(s) left in \(folder) by an interrupted delivery") }
        return removed
    }
}
