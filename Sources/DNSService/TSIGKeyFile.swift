import ServerCore

/// A keys file as BIND and NSD write it (`tsig-keygen` makes one):
///
///     key "transfer.example." {
///         algorithm hmac-sha256;
///         secret "base64==";
///     };
///
/// with `#`, `//` and `/* */` comments. Anything else is an error naming its file and line.
public enum TSIGKeyFile {
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// The keys by name (compared without regard to case).
    public static func parse(_ text: String, path: String) throws(Failure) -> [DNSName: TSIGKey] {
        var tokens = try tokenize(Array(text.utf8), path: path)[...]
        var keys: [DNSName: TSIGKey] = [:]
        func fail(_ line: Int, _ expected: String) -> Failure { Failure(description: "\(path):\(line): \(expected)") }
        func take(_ what: String, after line: Int) throws(Failure) -> Token {
            guard let token = tokens.popFirst() else { throw fail(line, "expected \(what), got the end of the file") }
            return token
        }
        func expect(_ symbol: String, after line: Int) throws(Failure) {
            let token = try take("'\(symbol)'", after: line)
            guard !token.quoted, token.text == symbol else { throw fail(token.line, "expected '\(symbol)', got '\(token.text)'") }
        }
        while let statement = tokens.popFirst() {
            guard !statement.quoted, statement.text == "key" else {
                throw fail(statement.line, "expected 'key \"name\" { algorithm ...; secret \"...\"; };', got '\(statement.text)'")
            }
            let nameToken = try take("a key name", after: statement.line)
            guard let name = DNSName(nameToken.text.hasSuffix(".") ? nameToken.text : nameToken.text + "."), !name.labels.isEmpty else {
                throw fail(nameToken.line, "'\(nameToken.text)' is not a domain name")
            }
            guard keys[name] == nil else { throw fail(nameToken.line, "the key \(name) is defined twice") }
            try expect("{", after: nameToken.line)
            var algorithm: MessageAuthentication.Algorithm?
            var secret: [UInt8]?
            while true {
                let field = try take("'algorithm', 'secret' or '}'", after: nameToken.line)
                if !field.quoted && field.text == "}" { break }
                let value = try take("a value for '\(field.text)'", after: field.line)
                switch field.quoted ? "" : field.text {
                case "algorithm":
                    guard let known = MessageAuthentication.Algorithm.allCases.first(where: { "hmac-\($0.rawValue)" == value.text.lowercased() }) else {
                        throw fail(value.line, "expected hmac-sha1, hmac-sha256 or hmac-sha512, got '\(value.text)'")
                    }
                    algorithm = known
                case "secret":
                    guard let bytes = Base64.decode(value.text), !bytes.isEmpty else {
                        throw fail(value.line, "the secret is not base64")
                    }
                    secret = bytes
                default:
                    throw fail(field.line, "expected 'algorithm', 'secret' or '}', got '\(field.text)'")
                }
                try expect(";", after: value.line)
            }
            try expect(";", after: nameToken.line)
            guard let algorithm, let secret else {
                throw fail(nameToken.line, "the key \(name) needs both an algorithm and a secret")
            }
            keys[name] = TSIGKey(name: name, algorithm: algorithm, secret: secret)
        }
        return keys
    }

    struct Token {
        let text: String
        let quoted: Bool
        let line: Int
    }

    /// Words, quoted strings and the three symbols, comments skipped.
    static func tokenize(_ bytes: [UInt8], path: String) throws(Failure) -> [Token] {
        var tokens: [Token] = []
        var line = 1
        var index = 0
        func at(_ offset: Int) -> UInt8? { index + offset < bytes.count ? bytes[index + offset] : nil }
        while let byte = at(0) {
            switch byte {
            case UInt8(ascii: "\n"):
                line += 1
                index += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                index += 1
            case UInt8(ascii: "#"):
                while let next = at(0), next != UInt8(ascii: "\n") { index += 1 }
            case UInt8(ascii: "/") where at(1) == UInt8(ascii: "/"):
                while let next = at(0), next != UInt8(ascii: "\n") { index += 1 }
            case UInt8(ascii: "/") where at(1) == UInt8(ascii: "*"):
                let start = line
                index += 2
                while at(0) != nil && !(at(0) == UInt8(ascii: "*") && at(1) == UInt8(ascii: "/")) {
                    if at(0) == UInt8(ascii: "\n") { line += 1 }
                    index += 1
                }
                guard at(0) != nil else { throw Failure(description: "\(path):\(start): a comment is not closed") }
                index += 2
            case UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: ";"):
                tokens.append(Token(text: String(decoding: [byte], as: UTF8.self), quoted: false, line: line))
                index += 1
            case UInt8(ascii: "\""):
                let start = index + 1
                index += 1
                while let next = at(0), next != UInt8(ascii: "\""), next != UInt8(ascii: "\n") { index += 1 }
                guard at(0) == UInt8(ascii: "\"") else { throw Failure(description: "\(path):\(line): a quoted string is not closed") }
                tokens.append(Token(text: String(decoding: bytes[start..<index], as: UTF8.self), quoted: true, line: line))
                index += 1
            default:
                let start = index
                let stops: Set<UInt8> = Set(" \t\r\n{};\"#".utf8)
                while let next = at(0), !stops.contains(next) { index += 1 }
                tokens.append(Token(text: String(decoding: bytes[start..<index], as: UTF8.self), quoted: false, line: line))
            }
        }
        return tokens
    }
}
