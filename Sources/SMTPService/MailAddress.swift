/// A mailbox as MAIL FROM and RCPT TO give it (RFC 5321 4.1.2): local part and domain.
public struct MailAddress: Hashable, Sendable, CustomStringConvertible {
    public let localPart: String
    public let domain: String

    public var description: String { "\(localPart)@\(domain)" }

    /// Parses `<local@domain>`, dropping an obsolete source route (`<@a,@b:local@domain>`).
    /// The null path `<>` and `<postmaster>` are the caller's business.
    public init?(path: Substring) {
        guard path.hasPrefix("<"), path.hasSuffix(">"), path.count >= 2 else { return nil }
        var inner = path.dropFirst().dropLast()
        if inner.hasPrefix("@") {
            guard let colon = inner.firstIndex(of: ":") else { return nil }
            inner = inner[inner.index(after: colon)...]
        }
        guard let at = inner.lastIndex(of: "@") else { return nil }
        let local = inner[..<at], domain = inner[inner.index(after: at)...]
        guard !local.isEmpty, local.utf8.count <= 64, !domain.isEmpty, domain.utf8.count <= 255,
              MailAddress.isValidLocalPart(local), MailAddress.isValidDomain(domain) else { return nil }
        localPart = String(local)
        self.domain = String(domain)
    }

    /// A dot-atom, or a quoted string without control characters (RFC 5321 4.1.2).
    static func isValidLocalPart(_ local: Substring) -> Bool {
        if local.hasPrefix("\"") {
            return local.count >= 2 && local.hasSuffix("\"") && local.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }
        }
        let atext = Set("!#$%&'*+-/=?^_`{|}~".unicodeScalars)
        return local.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { atom in
            !atom.isEmpty && atom.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || atext.contains($0) || $0.value >= 0x80 }
        }
    }

    /// A domain name, or an address literal such as `[192.0.2.1]`.
    public static func isValidDomain(_ domain: Substring) -> Bool {
        if domain.hasPrefix("[") { return domain.hasSuffix("]") && domain.count > 2 }
        return domain.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0.value >= 0x80 }
        }
    }

    /// The local part as a folder name: lower-cased, and only if nothing in it could mean
    /// something to the file system (no `/`, NUL, leading dot, `..`, quotes or controls).
    public var mailboxName: String? {
        let lowered = localPart.lowercased()
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._+-=".unicodeScalars)
        guard !lowered.hasPrefix("."), !lowered.contains(".."), lowered.unicodeScalars.allSatisfy(allowed.contains) else { return nil }
        return lowered
    }
}
