import DNSService
import Glibc
import ServerCore

/// The zone transfer settings as given, and the policy they make once the keys file is read.
struct DNSTransferSettings {
    var allowed: [IPNetwork]
    var keysFile: String?
    /// The key name and where it was given (flag or file:line), for its error.
    var requiredKey: (value: String, origin: String)?
    /// Where NOTIFY goes beside the zones' NS hosts.
    var notify: [SocketAddress] = []
    var secondaries: [SecondaryZone] = []

    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    /// Reads the keys file (which must not be readable by others: it holds secrets) and
    /// checks that the required key is in it.
    func policy() throws(Invalid) -> TransferPolicy {
        var keys: [DNSName: TSIGKey] = [:]
        if let keysFile {
            var info = stat()
            guard stat(keysFile, &info) == 0 else {
                throw Invalid(description: "cannot read the TSIG keys file \(keysFile): \(errorText(errno))")
            }
            guard info.st_mode & 0o007 == 0 else {
                throw Invalid(description: "\(keysFile): holds secrets but others may read it (mode \(String(info.st_mode & 0o777, radix: 8))); chmod o= \(keysFile)")
            }
            guard let data = LocalFiles.read(keysFile) else { throw Invalid(description: "cannot read the TSIG keys file \(keysFile)") }
            do {
                keys = try TSIGKeyFile.parse(String(decoding: data, as: UTF8.self), path: keysFile)
            } catch {
                throw Invalid(description: error.description)
            }
        }
        var required: DNSName?
        if let (text, origin) = requiredKey {
            guard let name = DNSName(text.hasSuffix(".") ? text : text + "."), keys[name] != nil else {
                throw Invalid(description: "\(origin): no key '\(text)' in \(keysFile ?? "the TSIG keys (no --dns-tsig-keys given)")")
            }
            required = name
        }
        for zone in secondaries {
            if let key = zone.keyName, keys[key] == nil {
                throw Invalid(description: "dns-secondary \(zone.origin): no key '\(key)' in \(keysFile ?? "the TSIG keys (no --dns-tsig-keys given)")")
            }
        }
        var seen: Set<DNSName> = []
        for zone in secondaries where !seen.insert(zone.origin).inserted {
            throw Invalid(description: "dns-secondary: the zone \(zone.origin) is given twice")
        }
        return TransferPolicy(allowed: allowed, keys: keys, requiredKey: required)
    }
}
