import Synchronization

/// The users file as the service sees it: read at start, and again on request (SIGHUP),
/// keeping the last good version when the file has become unreadable or malformed.
public final class FTPUsers: Sendable {
    private let path: String?
    private let current: Mutex<PasswordFile>

    public init(path: String) throws(PasswordFile.Failure) {
        self.path = path
        current = Mutex(try PasswordFile(path: path))
    }

    /// Users that are not in a file (tests).
    public init(_ file: PasswordFile) {
        path = nil
        current = Mutex(file)
    }

    public var count: Int { current.withLock { $0.users.count } }

    public func verify(user: String, password: String) -> Bool {
        current.withLock { $0 }.verify(user: user, password: password)
    }

    /// Reads the file again; returns what went wrong, if anything.
    public func reload() -> String? {
        guard let path else { return nil }
        do {
            let file = try PasswordFile(path: path)
            current.withLock { $0 = file }
            return nil
        } catch {
            return "\(error.description) (keeping the previous users)"
        }
    }
}
