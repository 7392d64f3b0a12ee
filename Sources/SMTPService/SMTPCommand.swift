/// One command line, parsed (RFC 5321 4.1). Every verb is listed here once.
public enum SMTPCommand: Equatable, Sendable {
    case ehlo(String)
    case helo(String)
    case mail(path: Substring, parameters: [(String, String?)])
    case rcpt(path: Substring, parameters: [(String, String?)])
    case data(argument: Bool)
    case rset
    case noop
    case quit
    case vrfy(argument: Bool)
    case help
    /// RFC 3207: takes no argument.
    case startTLS(argument: Bool)
    /// Known verbs this server does not do (AUTH, EXPN, ...): 502.
    case notImplemented
    case unrecognized
    case syntaxError

    public static func == (a: SMTPCommand, b: SMTPCommand) -> Bool {
        switch (a, b) {
        case (.ehlo(let x), .ehlo(let y)), (.helo(let x), .helo(let y)): x == y
        case (.mail(let p, let x), .mail(let q, let y)), (.rcpt(let p, let x), .rcpt(let q, let y)):
            p == q && x.elementsEqual(y, by: { $0.0 == $1.0 && $0.1 == $1.1 })
        case (.data(let x), .data(let y)), (.vrfy(let x), .vrfy(let y)), (.startTLS(let x), .startTLS(let y)): x == y
        case (.rset, .rset), (.noop, .noop), (.quit, .quit), (.help, .help), (.notImplemented, .notImplemented),
             (.unrecognized, .unrecognized), (.syntaxError, .syntaxError): true
        default: false
        }
    }

    private static let unimplemented: Set<String> = ["AUTH", "EXPN", "TURN", "ETRN", "ATRN", "BDAT", "SEND", "SOML", "SAML"]

    public init(line bytes: [UInt8]) {
        let line = String(decoding: bytes, as: UTF8.self)
        let verbEnd = line.firstIndex(of: " ") ?? line.endIndex
        let verb = line[..<verbEnd].uppercased()
        let argument = line[verbEnd...].drop { $0 == " " }
        switch verb {
        case "EHLO", "HELO":
            let name = argument.split(separator: " ").first.map(String.init) ?? ""
            self = verb == "EHLO" ? .ehlo(name) : .helo(name)
        case "MAIL", "RCPT":
            let prefix = verb == "MAIL" ? "FROM:" : "TO:"
            // Compared character for character: upper-casing the whole argument could change
            // its length ("ß" becomes "SS") and move the cut.
            guard argument.prefix(prefix.count).uppercased() == prefix else {
                self = .syntaxError
                return
            }
            // RFC 5321 allows no space after the colon; many clients send one anyway.
            let rest = argument.dropFirst(prefix.count).drop { $0 == " " }
            guard rest.hasPrefix("<"), let close = rest.firstIndex(of: ">") else {
                self = .syntaxError
                return
            }
            let path = rest[...close]
            let parameters = rest[rest.index(after: close)...].split(separator: " ").map(SMTPCommand.parameter)
            self = verb == "MAIL" ? .mail(path: path, parameters: parameters) : .rcpt(path: path, parameters: parameters)
        case "DATA": self = .data(argument: !argument.isEmpty)
        case "RSET": self = .rset
        case "NOOP": self = .noop
        case "QUIT": self = .quit
        case "VRFY": self = .vrfy(argument: !argument.isEmpty)
        case "HELP": self = .help
        case "STARTTLS": self = .startTLS(argument: !argument.isEmpty)
        default: self = SMTPCommand.unimplemented.contains(verb) ? .notImplemented : .unrecognized
        }
    }

    /// `KEY=value` or `KEY` (RFC 5321 4.1.2 esmtp-param), cut at the first `=`: the key is
    /// upper-cased and may come out empty (a bare `=`), which the session refuses as unknown.
    static func parameter(_ word: Substring) -> (String, String?) {
        guard let equals = word.firstIndex(of: "=") else { return (word.uppercased(), nil) }
        return (word[..<equals].uppercased(), String(word[word.index(after: equals)...]))
    }
}
