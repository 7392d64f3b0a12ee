/// What the session asks of the file system, as a value: the control connection runs it
/// off its queue (`perform` blocks on disk) and hands the answer back to the session, so
/// the session itself does no file-system I/O and a slow disk stalls no other connection.
public enum FileRequest: Sendable {
    case changeDirectory(String)
    /// LIST, NLST or MLSD of a folder (or of one file).
    case listing(FTPCommand, String, readOnly: Bool)
    /// STAT with a path: a LIST on the control connection.
    case status(String)
    /// MLST.
    case facts(String, readOnly: Bool)
    case retrieve(String, offset: Int64, ascii: Bool)
    /// STOR or APPE; a STOR after REST copies the first `offset` bytes of the old file.
    case store(String, offset: Int64, append: Bool, ascii: Bool)
    case size(String)
    case modificationTime(String)
    case delete(String)
    case makeDirectory(String)
    case removeDirectory(String)
    /// RNFR: the source must exist.
    case renameSource(String)
    case rename(String, to: String)

    /// Runs the request; `now` (seconds since the epoch) dates LIST lines.
    public func perform(on fs: VirtualFS, now: Int) -> FileAnswer {
        switch self {
        case .changeDirectory(let target):
            return fs.isDirectory(target) ? .changedDirectory(target) : .reply(FTPReply(550, "Failed to change directory"))
        case .listing(let command, let target, let readOnly):
            switch fs.list(target) {
            case .failure(let failure): return .reply(FTPReply(550, failure.message))
            case .success(let entries):
                if command == .mlsd && !fs.isDirectory(target) { return .reply(FTPReply(501, "Not a directory")) }
                let bytes = switch command {
                case .nlst: ListingFormat.names(entries)
                case .mlsd: ListingFormat.mlsd(entries, readOnly: readOnly)
                default: ListingFormat.list(entries, now: now)
                }
                return .transfer(.listing(bytes), what: "directory listing")
            }
        case .status(let target):
            guard case .success(let entries) = fs.list(target) else { return .reply(FTPReply(550, "No such file or directory")) }
            let lines = String(decoding: ListingFormat.list(entries, now: now), as: UTF8.self).split(separator: "\r\n").map(String.init)
            return .reply(FTPReply(213, lines: ["Status of \(target):"] + lines + ["End of status"]))
        case .facts(let target, let readOnly):
            switch fs.stat(target) {
            case .failure(let failure): return .reply(FTPReply(550, failure.message))
            case .success(let entry):
                return .reply(FTPReply(250, lines: ["Listing \(target)", ListingFormat.facts(entry, name: target, readOnly: readOnly), "End"]))
            }
        case .retrieve(let target, let offset, let ascii):
            switch fs.openForReading(target) {
            case .failure(let failure): return .reply(FTPReply(550, failure.message))
            case .success((let file, let entry)):
                guard offset <= entry.size else { return .reply(.badRest) }
                return .transfer(.send(file, offset: offset, count: entry.size - offset, ascii: ascii), what: "\(entry.name) (\(entry.size) bytes)")
            }
        case .store(let target, let offset, let append, let ascii):
            switch fs.upload(target, offset: append ? 0 : offset, append: append) {
            case .failure(.invalidName): return .reply(FTPReply(553, "File name not allowed"))
            case .failure(let failure): return .reply(FTPReply(550, failure.message))
            case .success(let upload): return .transfer(.receive(upload, ascii: ascii), what: VirtualFS.name(of: target))
            }
        case .size(let target), .modificationTime(let target):
            let size: Bool = if case .size = self { true } else { false }
            guard case .success(let entry) = fs.stat(target), !entry.isDirectory else {
                return .reply(FTPReply(550, "Could not get file \(size ? "size" : "modification time")"))
            }
            return .reply(FTPReply(213, size ? String(entry.size) : ListingFormat.timestamp(entry.modified)))
        case .delete(let target): return FileRequest.done(fs.delete(target), .fileActionOK)
        case .makeDirectory(let target): return FileRequest.done(fs.makeDirectory(target), FTPReply(257, "\(FTPReply.quoted(target)) created"))
        case .removeDirectory(let target): return FileRequest.done(fs.removeDirectory(target), .fileActionOK)
        case .renameSource(let source):
            guard case .success = fs.stat(source) else { return .reply(FTPReply(550, "RNFR command failed")) }
            return .renameSource(source)
        case .rename(let source, let target): return FileRequest.done(fs.rename(source, to: target), .renamed)
        }
    }

    private static func done(_ result: Result<Void, VirtualFS.Failure>, _ success: FTPReply) -> FileAnswer {
        switch result {
        case .success: .reply(success)
        case .failure(.invalidName): .reply(FTPReply(553, "File name not allowed"))
        case .failure(let failure): .reply(FTPReply(550, failure.message))
        }
    }
}

/// What a `FileRequest` found, for the session to act on.
public enum FileAnswer: Sendable {
    case reply(FTPReply)
    /// CWD to a folder that exists.
    case changedDirectory(String)
    /// RNFR of a name that exists: RNTO may follow.
    case renameSource(String)
    case transfer(Transfer, what: String)
}
