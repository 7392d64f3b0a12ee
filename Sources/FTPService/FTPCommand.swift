/// Every FTP verb this server knows, in one table (as pyftpdlib has it): whether it needs a
/// login, an argument, write permission. One gate in the session answers 530, 501 and 550
/// from it before any verb runs; the session then switches over these cases, never over text.
public enum FTPCommand: String, CaseIterable, Sendable {
    case user = "USER", pass = "PASS", quit = "QUIT", noop = "NOOP", feat = "FEAT", syst = "SYST", help = "HELP", opts = "OPTS"
    case pwd = "PWD", xpwd = "XPWD", cwd = "CWD", xcwd = "XCWD", cdup = "CDUP", xcup = "XCUP"
    case type = "TYPE", mode = "MODE", stru = "STRU"
    case pasv = "PASV", epsv = "EPSV", port = "PORT", eprt = "EPRT"
    case list = "LIST", nlst = "NLST", mlsd = "MLSD", mlst = "MLST"
    case retr = "RETR", stor = "STOR", appe = "APPE", rest = "REST", abor = "ABOR"
    case size = "SIZE", mdtm = "MDTM", stat = "STAT", allo = "ALLO"
    case dele = "DELE", mkd = "MKD", xmkd = "XMKD", rmd = "RMD", xrmd = "XRMD", rnfr = "RNFR", rnto = "RNTO", site = "SITE"
    case auth = "AUTH", pbsz = "PBSZ", prot = "PROT", ccc = "CCC"

    public enum Argument: Sendable { case none, optional, required }

    public struct Rules: Sendable {
        public let needsLogin: Bool
        public let argument: Argument
        /// Changes the file system: refused to anonymous users.
        public let writes: Bool
    }

    public var rules: Rules { FTPCommand.table[self]! }

    /// The verb of a command line, if this server knows it.
    public init?(line: [UInt8]) { self.init(rawValue: FTPCommandLine(line).verb) }

    private static let table: [FTPCommand: Rules] = {
        var rules: [FTPCommand: Rules] = [:]
        func add(_ commands: [FTPCommand], login: Bool = true, _ argument: Argument = .none, writes: Bool = false) {
            for command in commands { rules[command] = Rules(needsLogin: login, argument: argument, writes: writes) }
        }
        add([.user], login: false, .required)
        add([.pass], login: false, .optional)
        add([.quit, .noop, .feat, .syst, .ccc], login: false)
        add([.auth, .pbsz, .prot], login: false, .required)
        add([.help], login: false, .optional)
        add([.opts], login: false, .required)
        add([.pwd, .xpwd, .cdup, .xcup, .pasv, .abor])
        add([.cwd, .xcwd, .type, .mode, .stru, .port, .eprt, .retr, .rest, .size, .mdtm], .required)
        add([.epsv, .list, .nlst, .mlsd, .mlst, .stat, .allo], .optional)
        add([.stor, .appe, .dele, .mkd, .xmkd, .rmd, .xrmd, .rnfr, .rnto], .required, writes: true)
        add([.site], .optional, writes: true)
        precondition(rules.count == allCases.count, "every FTP command has its rules")
        return rules
    }()

    /// RFC 4217's verbs, known only while TLS is offered.
    static let security: Set<FTPCommand> = [.auth, .pbsz, .prot, .ccc]

    /// Verbs that open a data connection, refused in clear when TLS is required.
    static let transfers: Set<FTPCommand> = [.list, .nlst, .mlsd, .retr, .stor, .appe]

    /// Verbs other servers have that this one does not (TLS's, when it is off): 502 rather than 500.
    static let unimplemented: Set<String> = ["AUTH", "PBSZ", "PROT", "ACCT", "SMNT", "REIN", "STOU", "CCC", "ADAT", "LPRT", "LPSV"]
}

/// A command line split into its verb (upper-cased) and argument (as sent, spaces kept).
public struct FTPCommandLine: Equatable, Sendable {
    public let verb: String
    public let argument: String

    public init(_ bytes: [UInt8]) {
        let line = String(decoding: bytes, as: UTF8.self)
        let space = line.firstIndex(of: " ") ?? line.endIndex
        verb = line[..<space].uppercased()
        argument = space == line.endIndex ? "" : String(line[line.index(after: space)...])
    }
}
