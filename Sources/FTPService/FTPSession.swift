import Glibc
import ServerCore

/// What goes over a data connection.
public enum Transfer: Sendable {
    /// `count` bytes of a file from `offset`, LF as CRLF in ASCII mode.
    case send(FileDescriptor, offset: Int64, count: Int64, ascii: Bool)
    case listing([UInt8])
    /// An upload, CRLF as LF in ASCII mode.
    case receive(Upload, ascii: Bool)
}

/// The FTP control conversation as a state machine, sans I/O but for the file system it
/// is given: each command line goes in, replies and what to do come out. Data
/// connections, password checks and delays are the handler's.
public struct FTPSession: Sendable {
    public enum Action: Sendable {
        case reply(FTPReply)
        /// Check the password off the connection's queue, then call `passwordChecked`.
        case checkPassword(user: String, password: String)
        /// Open a passive data listener and say where (227 or, extended, 229).
        case enterPassive(extended: Bool)
        /// The next transfer connects out to this address (PORT/EPRT, already checked).
        case setActive(SocketAddress)
        /// Announce (150) and run a transfer over the data connection; `what` names it.
        case transfer(Transfer, what: String)
        case abort
        case close
    }

    private enum Login: Equatable {
        case none
        case user(String)
        case loggedIn(String, anonymous: Bool)
    }

    private let fs: VirtualFS
    private let anonymousAllowed: Bool
    /// The control connection's peer: the only address data connections may involve.
    private let peer: IPAddress
    private var login = Login.none
    public private(set) var cwd = "/"
    private var ascii = false
    private var restart: Int64 = 0
    private var renameFrom: String?

    public init(fs: VirtualFS, anonymousAllowed: Bool, peer: IPAddress) {
        self.fs = fs
        self.anonymousAllowed = anonymousAllowed
        self.peer = peer
    }

    public var user: String? {
        if case .loggedIn(let name, _) = login { return name }
        return nil
    }

    private var loggedIn: Bool { user != nil }
    private var anonymous: Bool { login == .loggedIn("anonymous", anonymous: true) }

    public mutating func handle(_ line: [UInt8]) -> [Action] {
        let command = FTPCommandLine(line)
        guard let verb = FTPVerb.table[command.verb] else {
            if !loggedIn { return [.reply(.notLoggedIn)] }
            return [.reply(FTPVerb.unimplemented.contains(command.verb) ? .notImplemented : .unknown)]
        }
        if verb.needsLogin && !loggedIn { return [.reply(.notLoggedIn)] }
        if verb.argument == .required && command.argument.isEmpty { return [.reply(.syntax)] }
        if verb.writes && anonymous { return [.reply(.readOnly)] }
        let pendingRename = renameFrom
        renameFrom = nil
        return run(verb.name, command.argument, renaming: pendingRename)
    }

    /// The answer to `.checkPassword`.
    public mutating func passwordChecked(user: String, success: Bool) -> [Action] {
        guard login == .user(user) else { return [.reply(.badSequence)] }
        login = success ? .loggedIn(user, anonymous: false) : .none
        return [.reply(success ? .loggedIn : .loginIncorrect)]
    }

    private func path(_ argument: String) -> String { VirtualFS.resolve(argument, cwd: cwd) }

    private mutating func run(_ verb: String, _ argument: String, renaming pendingRename: String?) -> [Action] {
        switch verb {
        case "USER":
            if ["anonymous", "ftp"].contains(argument.lowercased()) {
                guard anonymousAllowed else { return [.reply(.anonymousRefused)] }
                login = .user("anonymous")
                return [.reply(FTPReply(331, "Anonymous login ok, send your email address as password"))]
            }
            login = .user(argument)
            return [.reply(.needPassword)]
        case "PASS":
            guard case .user(let name) = login else { return [.reply(.needUser)] }
            if name == "anonymous" {
                login = .loggedIn("anonymous", anonymous: true)
                return [.reply(.anonymousReadOnly)]
            }
            return [.checkPassword(user: name, password: argument)]
        case "QUIT": return [.reply(.goodbye), .close]
        case "NOOP": return [.reply(.ok)]
        case "FEAT": return [.reply(.features)]
        case "SYST": return [.reply(.system)]
        case "HELP": return [.reply(.help)]
        case "OPTS":
            let upper = argument.uppercased()
            if upper == "UTF8 ON" || upper == "UTF-8 ON" { return [.reply(.utf8On)] }
            if upper.hasPrefix("MLST") { return [.reply(FTPReply(200, "MLST OPTS type;size;modify;perm;unique;"))] }
            return [.reply(.syntax)]
        case "PWD", "XPWD":
            return [.reply(FTPReply(257, "\(FTPReply.quoted(cwd)) is the current directory"))]
        case "CWD", "XCWD", "CDUP", "XCUP":
            let target = path(verb.hasSuffix("UP") ? ".." : argument)
            guard fs.isDirectory(target) else { return [.reply(FTPReply(550, "Failed to change directory"))] }
            cwd = target
            return [.reply(FTPReply(250, "Directory successfully changed"))]
        case "TYPE":
            switch argument.uppercased() {
            case "A", "A N": ascii = true
            case "I", "L 8": ascii = false
            default: return [.reply(.parameterNotImplemented)]
            }
            return [.reply(FTPReply(200, "Switching to \(ascii ? "ASCII" : "Binary") mode"))]
        case "MODE": return [.reply(argument.uppercased() == "S" ? .ok : .parameterNotImplemented)]
        case "STRU": return [.reply(argument.uppercased() == "F" ? .ok : .parameterNotImplemented)]
        case "PASV": return [.enterPassive(extended: false)]
        case "EPSV":
            switch DataAddress.epsv(argument) {
            case .any, .ipv4, .ipv6: return [.enterPassive(extended: true)]
            case .all: return [.reply(FTPReply(200, "EPSV ALL ok"))]
            case nil: return [.reply(.protocolNotSupported)]
            }
        case "PORT", "EPRT":
            guard let target = verb == "PORT" ? DataAddress.port(argument) : DataAddress.eprt(argument) else {
                return [.reply(verb == "EPRT" && DataAddress.eprtFamilyUnknown(argument) ? .protocolNotSupported : .syntax)]
            }
            // No FTP bounce: data goes only to the control connection's own peer, above 1023.
            guard DataAddress.sameHost(target.ip, peer), target.port >= 1024 else { return [.reply(.illegalPort)] }
            return [.reply(.portOK), .setActive(target)]
        case "LIST", "NLST", "MLSD":
            return listing(verb, argument)
        case "MLST":
            let target = path(argument.isEmpty ? "." : argument)
            switch fs.stat(target) {
            case .failure(let failure): return [.reply(FTPReply(550, failure.message))]
            case .success(let entry):
                return [.reply(FTPReply(250, lines: ["Listing \(target)", ListingFormat.facts(entry, name: target, readOnly: anonymous), "End"]))]
            }
        case "RETR":
            let offset = restart
            restart = 0
            switch fs.openForReading(path(argument)) {
            case .failure(let failure): return [.reply(FTPReply(550, failure.message))]
            case .success((let file, let entry)):
                guard offset <= entry.size else { return [.reply(.badRest)] }
                return [.transfer(.send(file, offset: offset, count: entry.size - offset, ascii: ascii),
                                  what: "\(entry.name) (\(entry.size) bytes)")]
            }
        case "STOR", "APPE":
            let offset = restart
            restart = 0
            switch fs.upload(path(argument), offset: verb == "APPE" ? 0 : offset, append: verb == "APPE") {
            case .failure(.invalidName): return [.reply(FTPReply(553, "File name not allowed"))]
            case .failure(let failure): return [.reply(FTPReply(550, failure.message))]
            case .success(let upload): return [.transfer(.receive(upload, ascii: ascii), what: VirtualFS.name(of: path(argument)))]
            }
        case "REST":
            guard let offset = StrictNumber.decimal(argument, as: UInt64.self, max: UInt64(Int64.max)).map(Int64.init) else {
                return [.reply(.syntax)]
            }
            restart = offset
            return [.reply(FTPReply(350, "Restarting at \(offset). Send STOR or RETR"))]
        case "SIZE", "MDTM":
            guard case .success(let entry) = fs.stat(path(argument)), !entry.isDirectory else {
                return [.reply(FTPReply(550, "Could not get file \(verb == "SIZE" ? "size" : "modification time")"))]
            }
            return [.reply(FTPReply(213, verb == "SIZE" ? String(entry.size) : ListingFormat.timestamp(entry.modified)))]
        case "DELE": return done(fs.delete(path(argument)), .fileActionOK)
        case "MKD", "XMKD":
            let target = path(argument)
            return done(fs.makeDirectory(target), FTPReply(257, "\(FTPReply.quoted(target)) created"))
        case "RMD", "XRMD": return done(fs.removeDirectory(path(argument)), .fileActionOK)
        case "RNFR":
            let source = path(argument)
            guard case .success = fs.stat(source) else { return [.reply(FTPReply(550, "RNFR command failed"))] }
            renameFrom = source
            return [.reply(.readyForRename)]
        case "RNTO":
            guard let pendingRename else { return [.reply(.badSequence)] }
            return done(fs.rename(pendingRename, to: path(argument)), .renamed)
        case "ABOR": return [.abort]
        case "STAT":
            guard !argument.isEmpty else {
                return [.reply(FTPReply(211, lines: ["appserver FTP status", "Logged in as \(user ?? "-")",
                                                     "TYPE: \(ascii ? "ASCII" : "BINARY"), STRUcture: File, MODE: Stream", "End of status"]))]
            }
            guard case .success(let entries) = fs.list(path(argument)) else { return [.reply(FTPReply(550, "No such file or directory"))] }
            let lines = String(decoding: ListingFormat.list(entries, now: Int(time(nil))), as: UTF8.self)
                .split(separator: "\r\n").map(String.init)
            return [.reply(FTPReply(213, lines: ["Status of \(path(argument)):"] + lines + ["End of status"]))]
        case "ALLO": return [.reply(.allocateNotNeeded)]
        case "SITE": return [.reply(FTPReply(500, "SITE command not supported"))]
        default: return [.reply(.unknown)]
        }
    }

    private func listing(_ verb: String, _ argument: String) -> [Action] {
        // `ls` options that clients put before the path (LIST -la dir) are not paths.
        let words = argument.split(separator: " ", omittingEmptySubsequences: true)
        let target = path(words.drop { $0.hasPrefix("-") && verb == "LIST" }.joined(separator: " ").nilIfEmpty ?? ".")
        switch fs.list(target) {
        case .failure(let failure):
            return [.reply(FTPReply(550, failure.message))]
        case .success(let entries):
            if verb == "MLSD" && !fs.isDirectory(target) { return [.reply(FTPReply(501, "Not a directory"))] }
            let bytes = switch verb {
            case "NLST": ListingFormat.names(entries)
            case "MLSD": ListingFormat.mlsd(entries, readOnly: anonymous)
            default: ListingFormat.list(entries, now: Int(time(nil)))
            }
            return [.transfer(.listing(bytes), what: "directory listing")]
        }
    }

    private func done(_ result: Result<Void, VirtualFS.Failure>, _ success: FTPReply) -> [Action] {
        switch result {
        case .success: [.reply(success)]
        case .failure(.invalidName): [.reply(FTPReply(553, "File name not allowed"))]
        case .failure(let failure): [.reply(FTPReply(550, failure.message))]
        }
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
