import CCrypt
import ServerCore

/// The users file: one `name:hash` a line, the hash in crypt(3) form (`$y$` yescrypt,
/// `$6$`/`$5$` SHA-crypt, `$2b$` bcrypt), as `mkpasswd` or `openssl passwd -6` writes it,
/// or `appserver passwd NAME`. `#` starts a comment. Verified through the system's libcrypt
/// and compared in constant time; passwords are never stored or compared in clear.
public struct PasswordFile: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    private let hashes: [String: String]

    /// Checked against when the file has no users at all, so that a wrong name costs what
    /// a wrong password does. (With users, an unknown name is checked against one of theirs.)
    static let decoy = "$6$appserverdecoy$3kV3gHc6UtF4l7WCNsq8e7.kT5xQZbP8qv1mOQyqS5yqJg3N0aS5v1dYBGmI8lTzEoMQm8Eu3x1mH0bQXx3Qn."

    public init(path: String) throws(Failure) {
        guard let data = LocalFiles.read(path) else { throw Failure(description: "cannot read the FTP users file \(path)") }
        try self.init(text: String(decoding: data, as: UTF8.self), path: path)
    }

    public init(text: String, path: String = "users") throws(Failure) {
        var hashes: [String: String] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.prefix { $0 != "#" }.trimmingBlanks
            guard !line.isEmpty else { continue }
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw Failure(description: "\(path):\(index + 1): expected 'name:hash'")
            }
            let name = String(line[..<colon]), hash = String(line[line.index(after: colon)...])
            guard !name.contains(where: { $0.isWhitespace }) else { throw Failure(description: "\(path):\(index + 1): a user name cannot hold spaces") }
            guard hashes[name] == nil else { throw Failure(description: "\(path):\(index + 1): '\(name)' is listed twice") }
            hashes[name] = hash
        }
        self.hashes = hashes
    }

    public var users: [String] { hashes.keys.sorted() }

    public func verify(user: String, password: String) -> Bool {
        let stored = hashes[user] ?? hashes.values.min() ?? PasswordFile.decoy
        guard let computed = PasswordFile.crypt(password, setting: stored) else { return false }
        return PasswordFile.constantTimeEqual(Array(computed.utf8), Array(stored.utf8)) && hashes[user] != nil
    }

    /// A new entry's hash, with a fresh salt, in the library's preferred method (yescrypt on Debian).
    public static func hash(_ password: String) -> String? {
        var salt = [CChar](repeating: 0, count: 256)
        guard ccrypt_salt(nil, &salt, Int32(salt.count)) == 0 else { return nil }
        return crypt(password, setting: String(decoding: salt.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    static func crypt(_ password: String, setting: String) -> String? {
        var out = [CChar](repeating: 0, count: 512)
        let length = ccrypt_hash(password, setting, &out, Int32(out.count))
        guard length > 0 else { return nil }
        return String(decoding: out.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}
