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

    /// What an unknown name is checked against: one hash of a random password, made once
    /// (at the first load) in the library's default method, the one `appserver passwd`
    /// writes. Every unknown name then costs one hash of that kind, whatever the file holds:
    /// checking against one of the file's own (mixed) hashes would let the time tell names.
    static let dummy: String = {
        let secret = (0..<32).map { _ in String(UInt8.random(in: 0...255), radix: 16) }.joined()
        return hash(secret) ?? "$6$appserverdummy$"
    }()

    private let hashes: [String: String]
    /// Taken here, so that the dummy is made when a file loads, not by the first unknown name.
    private let dummy = PasswordFile.dummy

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
        let known = hashes[user]
        let stored = known ?? dummy
        guard let computed = PasswordFile.crypt(password, setting: stored) else {
            // A locked or malformed entry (`!`, `*`) costs a hash as well.
            _ = PasswordFile.crypt(password, setting: dummy)
            return false
        }
        return PasswordFile.constantTimeEqual(Array(computed.utf8), Array(stored.utf8)) && known != nil
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
