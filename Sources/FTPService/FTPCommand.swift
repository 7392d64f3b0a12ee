/// Every FTP verb this server knows, described once (as pyftpdlib does): whether it
/// needs a login, an argument, write permission, and its help. One gate in the session
/// answers 530, 501 and 550 from this table before any verb runs.
public struct FTPVerb: Sendable {
    public enum Argument: Sendable { case none, optional, required }

    public let name: String
    public let needsLogin: Bool
    public let argument: Argument
    /// Changes the file system: refused to anonymous users.
    public let writes: Bool

    static let table: [String: FTPVerb] = {
        var verbs: [String: FTPVerb] = [:]
        func add(_ names: String, login: Bool = true, _ argument: Argument = .none, writes: Bool = false) {
            for name in names.split(separator: " ") {
                verbs[String(name)] = FTPVerb(name: String(name), needsLogin: login, argument: argument, writes: writes)
            }
        }
        add("USER", login: false, .required)
        add("PASS", login: false, .optional)
        add("QUIT NOOP FEAT SYST", login: false)
        add("HELP", login: false, .optional)
        add("OPTS", login: false, .required)
        add("PWD XPWD CDUP XCUP PASV ABOR")
        add("CWD XCWD TYPE MODE STRU PORT EPRT RETR REST SIZE MDTM", .required)
        add("EPSV LIST NLST MLSD MLST STAT ALLO", .optional)
        add("STOR APPE DELE MKD XMKD RMD XRMD RNFR RNTO", .required, writes: true)
        add("SITE", .optional, writes: true)
        return verbs
    }()

    /// Verbs other servers have that this one does not: 502 rather than 500.
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
