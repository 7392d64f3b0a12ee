/// A reply: a code and one or more lines (RFC 959 4.2).
public struct FTPReply: Equatable, Sendable {
    public let code: Int
    public let lines: [String]

    public init(_ code: Int, _ lines: String...) {
        self.code = code
        self.lines = lines
    }

    public init(_ code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    /// `211-Features:` / ` EPSV` / `211 End`: inner lines of a multi-line reply begin with a space.
    public var bytes: [UInt8] {
        guard lines.count > 1 else { return Array("\(code) \(lines.first ?? "")\r\n".utf8) }
        var out = "\(code)-\(lines[0])\r\n"
        for line in lines.dropFirst().dropLast() { out += " \(line)\r\n" }
        out += "\(code) \(lines[lines.count - 1])\r\n"
        return Array(out.utf8)
    }

    /// A path in a 257 reply, its quotes doubled (RFC 959 appendix II).
    static func quoted(_ path: String) -> String { "\"" + path.map { $0 == "\"" ? "\"\"" : String($0) }.joined() + "\"" }

    /// 227 (PASV): the address as `h1,h2,h3,h4,p1,p2`.
    static func passive(_ ipv4: [UInt8], port: UInt16) -> FTPReply {
        let text = (ipv4 + [UInt8(port >> 8), UInt8(port & 0xFF)]).map(String.init).joined(separator: ",")
        return FTPReply(227, "Entering Passive Mode (\(text))")
    }

    /// 229 (EPSV, RFC 2428 3): the port alone.
    static func extendedPassive(port: UInt16) -> FTPReply { FTPReply(229, "Entering Extended Passive Mode (|||\(port)|)") }

    /// 150: a transfer is about to start.
    static func opening(_ what: String) -> FTPReply { FTPReply(150, "Opening data connection for \(what)") }

    static let greeting = FTPReply(220, "appserver FTP ready")
    static let goodbye = FTPReply(221, "Goodbye")
    static let ok = FTPReply(200, "Command okay")
    static let utf8On = FTPReply(200, "UTF8 mode is always on")
    static let system = FTPReply(215, "UNIX Type: L8")
    static let features = FTPReply(211, lines: ["Features:", "EPRT", "EPSV", "MDTM", "MLST type*;size*;modify*;perm*;unique*;", "PASV",
                                                "REST STREAM", "SIZE", "TVFS", "UTF8", "End"])
    /// FEAT when TLS is offered: RFC 4217 15's lines, in the list's order.
    static let featuresWithTLS = FTPReply(211, lines: ["Features:", "AUTH TLS", "EPRT", "EPSV", "MDTM", "MLST type*;size*;modify*;perm*;unique*;",
                                                       "PASV", "PBSZ", "PROT", "REST STREAM", "SIZE", "TVFS", "UTF8", "End"])
    /// HELP names the RFC 4217 commands only where FEAT offers them (CCC is always refused).
    static func help(tls: Bool) -> FTPReply {
        FTPReply(214, lines: ["The following commands are recognized:",
                              "USER PASS QUIT NOOP FEAT SYST HELP OPTS PWD CWD CDUP TYPE MODE STRU PASV EPSV PORT EPRT",
                              "LIST NLST MLSD MLST RETR STOR APPE REST SIZE MDTM DELE MKD RMD RNFR RNTO ABOR STAT ALLO"]
                              + (tls ? ["AUTH PBSZ PROT"] : []) + ["Help OK"])
    }
    static let needPassword = FTPReply(331, "Please specify the password")
    static let loggedIn = FTPReply(230, "Login successful")
    static let anonymousReadOnly = FTPReply(230, "Login successful (anonymous, read-only)")
    static let loginIncorrect = FTPReply(530, "Login incorrect")
    static let notLoggedIn = FTPReply(530, "Please login with USER and PASS")
    static let anonymousRefused = FTPReply(530, "This server does not allow anonymous logins")
    static let encryptionRequired = FTPReply(530, "Non-anonymous sessions must use encryption (AUTH TLS first)")
    static let dataMustBeEncrypted = FTPReply(521, "Data connections must be encrypted (PBSZ 0, PROT P)")
    /// The data connection's TLS failed: its handshake, or (with reuse required) it resumed
    /// no session of the control connection.
    static let dataTLSFailed = FTPReply(522, "Data connection TLS failed")
    static let dataTLSNotResumed = FTPReply(522, "Data connection TLS failed: it must resume the control connection's TLS session")
    static let needUser = FTPReply(503, "Login with USER first")
    static let unknown = FTPReply(500, "Unknown command")
    static let lineTooLong = FTPReply(500, "Command line too long")
    static let notImplemented = FTPReply(502, "Command not implemented")
    static let syntax = FTPReply(501, "Syntax error in parameters or arguments")
    static let parameterNotImplemented = FTPReply(504, "Command not implemented for that parameter")
    static let badSequence = FTPReply(503, "Bad sequence of commands")
    static let readOnly = FTPReply(550, "Permission denied")
    static let illegalPort = FTPReply(500, "Illegal PORT command")
    static let protocolNotSupported = FTPReply(522, "Network protocol not supported, use (1,2)")
    static let portOK = FTPReply(200, "PORT command successful. Consider using PASV")
    static let needDataChannel = FTPReply(425, "Use PORT or PASV first")
    static let useExtendedPassive = FTPReply(425, "Use EPSV with IPv6")
    static let cannotOpenData = FTPReply(425, "Can't open data connection")
    static let transferComplete = FTPReply(226, "Transfer complete")
    static let transferAborted = FTPReply(426, "Connection closed; transfer aborted")
    static let abortOK = FTPReply(226, "ABOR successful")
    static let noTransfer = FTPReply(225, "No transfer to abort")
    static let localError = FTPReply(451, "Requested action aborted: local error in processing")
    static let readyForRename = FTPReply(350, "Ready for RNTO")
    static let renamed = FTPReply(250, "Rename successful")
    static let fileActionOK = FTPReply(250, "Requested file action okay, completed")
    static let badRest = FTPReply(554, "Invalid REST parameter")
    static let allocateNotNeeded = FTPReply(202, "No storage allocation necessary")
    static let tooManyConnections = FTPReply(421, "Too many connections, try again later")
    static let timedOut = FTPReply(421, "Timeout: closing control connection")
    /// Blocking work (a file operation, a password check) found the pool full.
    static let busy = FTPReply(421, "Server busy, try again later")
    static let shuttingDown = FTPReply(421, "Service shutting down")
}
