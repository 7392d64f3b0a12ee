import ServerCore

/// What goes over a data connection.
public enum Transfer: Sendable {
    /// `count` bytes of a file from `offset`, LF as CRLF in ASCII mode.
    case send(FileDescriptor, offset: Int64, count: Int64, ascii: Bool)
    case listing([UInt8])
    /// An upload, CRLF as LF in ASCII mode.
    case receive(Upload, ascii: Bool)
}

/// The FTP control conversation as a state machine, sans I/O: each command line goes in,
/// replies and what to do come out. File access comes out as a `FileRequest` whose answer
/// goes back in through `finished`; data connections, password checks and delays are the
/// control session's.
public struct FTPSession: Sendable {
    public enum Action: Sendable {
        case reply(FTPReply)
        /// Check the password off the connection's queue, then call `passwordChecked`.
        case checkPassword(user: String, password: String)
        /// Run this off the connection's queue, then call `finished` with its answer.
        case files(FileRequest)
        /// Open a passive data listener and say where (227 or, extended, 229).
        case enterPassive(extended: Bool)
        /// The next transfer connects out to this address (PORT/EPRT, already checked).
        case setActive(SocketAddress)
        /// Announce (150) and run a transfer over the data connection; `what` names it.
        case transfer(Transfer, what: String)
        case abort
        case close
        /// AUTH TLS: the control connection switches to TLS once the reply has gone; the
        /// input behind the command was sent in plaintext and is dropped.
        case startTLS
    }

    enum Login: Equatable {
        case none
        case user(String)
        case loggedIn(String, anonymous: Bool)
    }

    private let anonymousAllowed: Bool
    /// The control connection's peer: the only address data connections may involve.
    private let peer: IPAddress
    var login = Login.none
    public private(set) var cwd = "/"
    private var ascii = false
    private var restart: Int64 = 0
    private var renameFrom: String?
    /// What TLS this server offers (RFC 4217); `off`: none (no certificate, or turned off).
    let tlsPolicy: TLSPolicy
    /// The control connection is under TLS: after AUTH TLS, or from the first byte (FTPS).
    public internal(set) var controlProtected: Bool
    /// PBSZ was given (PROT must follow it, RFC 2228).
    var bufferSizeSet = false
    /// PROT P: data connections are TLS.
    public internal(set) var protectsData = false

    public init(anonymousAllowed: Bool, peer: IPAddress, tls: TLSPolicy = .off, implicitTLS: Bool = false) {
        self.anonymousAllowed = anonymousAllowed
        self.peer = peer
        tlsPolicy = tls
        controlProtected = implicitTLS
    }

    public var user: String? {
        if case .loggedIn(let name, _) = login { return name }
        return nil
    }

    var loggedIn: Bool { user != nil }
    var anonymous: Bool { login == .loggedIn("anonymous", anonymous: true) }

    public mutating func handle(_ line: [UInt8]) -> [Action] {
        let command = FTPCommandLine(line)
        // Without TLS its verbs are unknown here, as on a server that never had them.
        guard let verb = FTPCommand(rawValue: command.verb), tlsPolicy != .off || !FTPCommand.security.contains(verb) else {
            if !loggedIn { return [.reply(.notLoggedIn)] }
            return [.reply(FTPCommand.unimplemented.contains(command.verb) ? .notImplemented : .unknown)]
        }
        let rules = verb.rules
        if rules.needsLogin && !loggedIn { return [.reply(.notLoggedIn)] }
        if rules.argument == .required && command.argument.isEmpty { return [.reply(.syntax)] }
        if rules.writes && anonymous { return [.reply(.readOnly)] }
        if let refusal = protectionRefusal(verb) { return [.reply(refusal)] }
        let pendingRename = renameFrom
        renameFrom = nil
        return run(verb, command.argument, renaming: pendingRename)
    }

    /// The answer to `.files`.
    public mutating func finished(_ answer: FileAnswer) -> [Action] {
        switch answer {
        case .reply(let reply): return [.reply(reply)]
        case .changedDirectory(let target):
            cwd = target
            return [.reply(FTPReply(250, "Directory successfully changed"))]
        case .renameSource(let source):
            renameFrom = source
            return [.reply(.readyForRename)]
        case .transfer(let transfer, let what): return [.transfer(transfer, what: what)]
        }
    }

    /// The answer to `.checkPassword`.
    public mutating func passwordChecked(user: String, success: Bool) -> [Action] {
        guard login == .user(user) else { return [.reply(.badSequence)] }
        login = success ? .loggedIn(user, anonymous: false) : .none
        return [.reply(success ? .loggedIn : .loginIncorrect)]
    }

    private func path(_ argument: String) -> String { VirtualFS.resolve(argument, cwd: cwd) }

    private mutating func run(_ verb: FTPCommand, _ argument: String, renaming pendingRename: String?) -> [Action] {
        switch verb {
        case .user:
            if ["anonymous", "ftp"].contains(argument.lowercased()) {
                guard anonymousAllowed else { return [.reply(.anonymousRefused)] }
                login = .user("anonymous")
                return [.reply(FTPReply(331, "Anonymous login ok, send your email address as password"))]
            }
            if tlsPolicy == .required && !controlProtected { return [.reply(.encryptionRequired)] }
            login = .user(argument)
            return [.reply(.needPassword)]
        case .pass:
            guard case .user(let name) = login else { return [.reply(.needUser)] }
            if name == "anonymous" {
                login = .loggedIn("anonymous", anonymous: true)
                return [.reply(.anonymousReadOnly)]
            }
            return [.checkPassword(user: name, password: argument)]
        case .quit: return [.reply(.goodbye), .close]
        case .noop: return [.reply(.ok)]
        case .feat: return [.reply(tlsPolicy == .off ? .features : .featuresWithTLS)]
        case .syst: return [.reply(.system)]
        case .help: return [.reply(.help(tls: tlsPolicy != .off))]
        case .opts:
            let upper = argument.uppercased()
            if upper == "UTF8 ON" || upper == "UTF-8 ON" { return [.reply(.utf8On)] }
            if upper.hasPrefix("MLST") { return [.reply(FTPReply(200, "MLST OPTS type;size;modify;perm;unique;"))] }
            return [.reply(.syntax)]
        case .pwd, .xpwd:
            return [.reply(FTPReply(257, "\(FTPReply.quoted(cwd)) is the current directory"))]
        case .cwd, .xcwd, .cdup, .xcup:
            return [.files(.changeDirectory(path(verb == .cdup || verb == .xcup ? ".." : argument)))]
        case .type:
            switch argument.uppercased() {
            case "A", "A N": ascii = true
            case "I", "L 8": ascii = false
            default: return [.reply(.parameterNotImplemented)]
            }
            return [.reply(FTPReply(200, "Switching to \(ascii ? "ASCII" : "Binary") mode"))]
        case .mode: return [.reply(argument.uppercased() == "S" ? .ok : .parameterNotImplemented)]
        case .stru: return [.reply(argument.uppercased() == "F" ? .ok : .parameterNotImplemented)]
        case .pasv: return [.enterPassive(extended: false)]
        case .epsv:
            switch DataAddress.epsv(argument) {
            case .any, .ipv4, .ipv6: return [.enterPassive(extended: true)]
            case .all: return [.reply(FTPReply(200, "EPSV ALL ok"))]
            case nil: return [.reply(.protocolNotSupported)]
            }
        case .port, .eprt:
            guard let target = verb == .port ? DataAddress.port(argument) : DataAddress.eprt(argument) else {
                return [.reply(verb == .eprt && DataAddress.eprtFamilyUnknown(argument) ? .protocolNotSupported : .syntax)]
            }
            // No FTP bounce: data goes only to the control connection's own peer, above 1023.
            guard DataAddress.sameHost(target.ip, peer), target.port >= 1024 else { return [.reply(.illegalPort)] }
            return [.reply(.portOK), .setActive(target)]
        case .list, .nlst, .mlsd:
            return [.files(.listing(verb, listingPath(verb, argument), readOnly: anonymous))]
        case .mlst:
            return [.files(.facts(path(argument.isEmpty ? "." : argument), readOnly: anonymous))]
        case .retr:
            let offset = restart
            restart = 0
            return [.files(.retrieve(path(argument), offset: offset, ascii: ascii))]
        case .stor, .appe:
            let offset = restart
            restart = 0
            return [.files(.store(path(argument), offset: offset, append: verb == .appe, ascii: ascii))]
        case .rest:
            guard let offset = StrictNumber.decimal(argument, as: UInt64.self, max: UInt64(Int64.max)).map(Int64.init) else {
                return [.reply(.syntax)]
            }
            restart = offset
            return [.reply(FTPReply(350, "Restarting at \(offset). Send STOR or RETR"))]
        case .size: return [.files(.size(path(argument)))]
        case .mdtm: return [.files(.modificationTime(path(argument)))]
        case .dele: return [.files(.delete(path(argument)))]
        case .mkd, .xmkd: return [.files(.makeDirectory(path(argument)))]
        case .rmd, .xrmd: return [.files(.removeDirectory(path(argument)))]
        case .rnfr: return [.files(.renameSource(path(argument)))]
        case .rnto:
            guard let pendingRename else { return [.reply(.badSequence)] }
            return [.files(.rename(pendingRename, to: path(argument)))]
        case .abor: return [.abort]
        case .stat:
            guard !argument.isEmpty else {
                return [.reply(FTPReply(211, lines: ["appserver FTP status", "Logged in as \(user ?? "-")",
                                                     "TYPE: \(ascii ? "ASCII" : "BINARY"), STRUcture: File, MODE: Stream", "End of status"]))]
            }
            return [.files(.status(path(argument)))]
        case .allo: return [.reply(.allocateNotNeeded)]
        case .site: return [.reply(FTPReply(500, "SITE command not supported"))]
        case .auth, .pbsz, .prot, .ccc: return security(verb, argument)
        }
    }

    /// `ls` options that clients put before the path (LIST -la dir) are not paths.
    private func listingPath(_ verb: FTPCommand, _ argument: String) -> String {
        let words = argument.split(separator: " ", omittingEmptySubsequences: true)
        return path(words.drop { $0.hasPrefix("-") && verb == .list }.joined(separator: " ").nilIfEmpty ?? ".")
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
