import AdminService
import Glibc
import ServerCore

/// The last mails delivered, read from the Maildirs under DATA/mail (`<domain>/<user>/new`
/// and `cur`), newest first: only the head of each file is read for the list.
enum MailFolder {
    static let listed = 20
    static let headLimit = 16 * 1024

    static func recent(in data: String) -> [ConsoleState.Mail] {
        let root = data + "/mail"
        var found: [(id: String, modified: Int, size: Int)] = []
        for domain in entries(root) {
            for user in entries(root + "/" + domain) {
                for box in ["new", "cur"] {
                    let folder = "\(domain)/\(user)/\(box)"
                    for name in entries(root + "/" + folder) {
                        var info = stat()
                        guard stat(root + "/" + folder + "/" + name, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
                        found.append((folder + "/" + name, Int(info.st_mtim.tv_sec), Int(info.st_size)))
                    }
                }
            }
        }
        return found.sorted { $0.modified > $1.modified }.prefix(listed).map { entry in
            let head = read(root + "/" + entry.id, limit: headLimit)
            let message = MIMEMessage(head)
            return ConsoleState.Mail(id: entry.id, received: entry.modified, from: message.header("from") ?? "",
                                     to: message.header("to") ?? "", subject: message.header("subject") ?? "", size: entry.size)
        }
    }

    /// One mail by its id, only if it is one the list would show (no other path is opened).
    static func message(_ id: String, in data: String) -> MIMEMessage? {
        let parts = id.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ !$0.isEmpty && !$0.hasPrefix(".") }), ["new", "cur"].contains(parts[2]) else { return nil }
        let path = data + "/mail/" + id
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return MIMEMessage(read(path, limit: MIMEMessage.maxBytes))
    }

    private static func entries(_ folder: String) -> [String] {
        guard let dir = opendir(folder) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir), names.count < 10_000 {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names
    }

    private static func read(_ path: String, limit: Int) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: limit)
        var total = 0
        while total < limit {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + total, limit - total) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            total += n
        }
        return Array(bytes.prefix(total))
    }
}
