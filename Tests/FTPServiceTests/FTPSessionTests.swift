import Foundation
import ServerCore
import Testing
@testable import FTPService

/// The control conversation against a real temporary folder (no sockets).
@Suite struct FTPSessionTests {
    final class Root {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ftp-\(UUID().uuidString)").path
        init() throws {
            try FileManager.default.createDirectory(atPath: path + "/root/docs", withIntermediateDirectories: true)
            try Data("hello\n".utf8).write(to: URL(fileURLWithPath: path + "/root/hello.txt"))
            try Data("secret".utf8).write(to: URL(fileURLWithPath: path + "/secret.txt"))
            try FileManager.default.createSymbolicLink(atPath: path + "/root/escape", withDestinationPath: path)
            try FileManager.default.createSymbolicLink(atPath: path + "/root/outside.txt", withDestinationPath: path + "/secret.txt")
            try FileManager.default.createSymbolicLink(atPath: path + "/root/inside.txt", withDestinationPath: "hello.txt")
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    let root: Root
    let fs: VirtualFS
    let peer = IPAddress("192.0.2.7")!

    init() throws {
        root = try Root()
        fs = try VirtualFS(root: root.path + "/root")
    }

    func session(anonymous: Bool = false, tls: FTPSession.TLSPolicy = .off, implicitTLS: Bool = false) -> FTPSession {
        FTPSession(anonymousAllowed: anonymous, peer: peer, tls: tls, implicitTLS: implicitTLS)
    }

    /// The reply codes (and markers for other actions) a line produces, its file requests
    /// performed at once (as the control session does off its queue).
    func codes(_ line: String, _ session: inout FTPSession) -> [String] {
        codes(session.handle(Array(line.utf8)), &session)
    }

    func codes(_ actions: [FTPSession.Action], _ session: inout FTPSession) -> [String] {
        var out: [String] = []
        for action in actions {
            if case .files(let request) = action {
                out += codes(session.finished(request.perform(on: fs, now: Int(time(nil)))), &session)
                continue
            }
            let marker: String = switch action {
            case .files: "files"
            case .reply(let reply): "\(reply.code)"
            case .checkPassword(let user, let password): "check \(user):\(password)"
            case .enterPassive(let extended): extended ? "EPSV" : "PASV"
            case .setActive(let address): "active \(address)"
            case .transfer(let transfer, _):
                switch transfer {
                case .send(_, let offset, let count, let ascii): "send \(offset)+\(count)\(ascii ? " ascii" : "")"
                case .listing(let bytes): "listing " + String(decoding: bytes, as: UTF8.self)
                case .receive(let upload, _): { upload.abandon(); return "receive" }()
                }
            case .abort: "abort"
            case .close: "close"
            case .startTLS: "starttls"
            }
            out.append(marker)
        }
        return out
    }

    func loggedIn() -> FTPSession {
        var s = session()
        _ = codes("USER alice", &s)
        _ = codes("PASS pw", &s)
        _ = s.passwordChecked(user: "alice", success: true)
        return s
    }

    @Test func onlyTheLoginVerbsBeforeLogin() {
        var s = session()
        for line in ["PWD", "LIST", "RETR hello.txt", "CWD docs", "PASV", "STOR x", "AUTH TLS", "BOGUS", "MKD x"] {
            #expect(codes(line, &s) == ["530"], "\(line)")
        }
        #expect(codes("NOOP", &s) == ["200"])
        #expect(codes("SYST", &s) == ["215"])
        #expect(codes("FEAT", &s) == ["211"])
        #expect(codes("OPTS UTF8 ON", &s) == ["200"])
        #expect(codes("HELP", &s) == ["214"])
        #expect(codes("PASS x", &s) == ["503"])
        #expect(codes("USER alice", &s) == ["331"])
        #expect(codes("PASS right", &s) == ["check alice:right"])
        #expect(s.passwordChecked(user: "alice", success: false).count == 1)
        #expect(codes("PWD", &s) == ["530"])
        #expect(codes("QUIT", &s) == ["221", "close"])
    }

    @Test func anonymousIsOffByDefaultAndReadOnlyWhenOn() {
        var off = session()
        #expect(codes("USER anonymous", &off) == ["530"])
        var on = session(anonymous: true)
        #expect(codes("USER anonymous", &on) == ["331"])
        #expect(codes("PASS guest@example.test", &on) == ["230"])
        #expect(codes("RETR hello.txt", &on) == ["send 0+6"])
        for line in ["STOR x", "APPE x", "DELE hello.txt", "MKD d", "RMD docs", "RNFR hello.txt", "RNTO x", "SITE CHMOD 777 x"] {
            #expect(codes(line, &on) == ["550"], "\(line)")
        }
    }

    @Test func navigationStaysInsideTheRoot() {
        var s = loggedIn()
        #expect(codes("PWD", &s) == ["257"])
        #expect(codes("CWD docs", &s) == ["250"])
        #expect(s.cwd == "/docs")
        #expect(codes("CDUP", &s) == ["250"])
        #expect(codes("CWD ../../../..", &s) == ["250"])
        #expect(s.cwd == "/")
        #expect(codes("CWD escape", &s) == ["550"])
        #expect(codes("CWD /nope", &s) == ["550"])
        #expect(codes("RETR ../secret.txt", &s) == ["550"])
        #expect(codes("RETR ../../secret.txt", &s) == ["550"])
        #expect(codes("RETR outside.txt", &s) == ["550"])
        #expect(codes("RETR escape/secret.txt", &s) == ["550"])
        #expect(codes("RETR inside.txt", &s) == ["send 0+6"])
        #expect(codes("SIZE /docs/../hello.txt", &s) == ["213"])
        // A NUL once cut the C string: `hello.txt\0junk` named hello.txt.
        #expect(codes("SIZE hello.txt\u{0}junk", &s) == ["550"])
        #expect(codes("MDTM hello.txt\u{0}", &s) == ["550"])
        #expect(codes("RETR hello.txt\u{0}.bak", &s) == ["550"])
        #expect(codes("DELE hello.txt\u{0}x", &s) == ["553"])
        #expect(codes("MKD new\u{0}", &s) == ["553"])
        #expect(codes("CWD docs\u{0}", &s) == ["550"])
        #expect(FileManager.default.fileExists(atPath: root.path + "/root/hello.txt"))
    }

    @Test func listingsHideWhatLeadsOutside() {
        var s = loggedIn()
        let listing = codes("NLST", &s).first ?? ""
        #expect(listing == "listing docs\r\nhello.txt\r\ninside.txt\r\n")
        let mlsd = codes("MLSD", &s).first ?? ""
        #expect(mlsd.contains("type=dir;modify="))
        #expect(mlsd.contains("type=file;size=6;modify="))
        #expect(mlsd.contains("perm=adfrw;unique="))
        #expect(!mlsd.contains("secret") && !mlsd.contains("escape") && !mlsd.contains("outside"))
        let list = codes("LIST -la", &s).first ?? ""
        #expect(list.contains("drwxr-xr-x 1 ftp ftp "))
        #expect(list.contains(" hello.txt\r\n"))
        #expect(codes("MLSD hello.txt", &s) == ["501"])
        #expect(codes("MLST hello.txt", &s) == ["250"])
        #expect(codes("LIST escape", &s) == ["550"])
    }

    @Test func typesModesAndRestart() {
        var s = loggedIn()
        #expect(codes("TYPE A", &s) == ["200"])
        #expect(codes("RETR hello.txt", &s) == ["send 0+6 ascii"])
        #expect(codes("TYPE I", &s) == ["200"])
        #expect(codes("TYPE E", &s) == ["504"])
        #expect(codes("MODE S", &s) == ["200"])
        #expect(codes("MODE B", &s) == ["504"])
        #expect(codes("STRU F", &s) == ["200"])
        #expect(codes("STRU R", &s) == ["504"])
        #expect(codes("REST 2", &s) == ["350"])
        #expect(codes("RETR hello.txt", &s) == ["send 2+4"])
        #expect(codes("RETR hello.txt", &s) == ["send 0+6"])
        #expect(codes("REST 99", &s) == ["350"])
        #expect(codes("RETR hello.txt", &s) == ["554"])
        #expect(codes("REST -1", &s) == ["501"])
        for hostile in ["REST +2", "REST  2", "REST 2 ", "REST 0x2", "REST 9223372036854775808", "REST 99999999999999999999", "REST ２"] {
            #expect(codes(hostile, &s) == ["501"], "\(hostile)")
        }
        #expect(codes("REST 9223372036854775807", &s) == ["350"])
        #expect(codes("RETR hello.txt", &s) == ["554"])
        for hostile in ["TYPE", "TYPE L 08", "TYPE A  N", "TYPE \u{0}", "MODE", "MODE SS", "STRU", "STRU \u{0}F"] {
            #expect(codes(hostile, &s).first.map { $0.hasPrefix("50") } == true, "\(hostile)")
        }
    }

    @Test func dataAddressesOnlyToThePeerAboveTheReservedPorts() {
        var s = loggedIn()
        #expect(codes("PORT 192,0,2,7,19,137", &s) == ["200", "active 192.0.2.7:5001"])
        #expect(codes("PORT 192,0,2,8,19,137", &s) == ["500"])
        #expect(codes("PORT 192,0,2,7,0,21", &s) == ["500"])
        #expect(codes("PORT 192,0,2,7,19", &s) == ["501"])
        #expect(codes("PORT 300,0,2,7,19,137", &s) == ["501"])
        #expect(codes("EPRT |1|192.0.2.7|5282|", &s) == ["200", "active 192.0.2.7:5282"])
        #expect(codes("EPRT |1|203.0.113.1|5282|", &s) == ["500"])
        #expect(codes("EPRT |3|x|5282|", &s) == ["522"])
        #expect(codes("EPRT |2|2001:db8::1|5282|", &s) == ["500"])
        #expect(codes("PASV", &s) == ["PASV"])
        #expect(codes("EPSV", &s) == ["EPSV"])
        #expect(codes("EPSV 3", &s) == ["522"])
        #expect(codes("EPSV all", &s) == ["200"])
        for hostile in ["EPSV +1", "EPSV -1", "EPSV 1 ", "EPSV 257", "EPSV 99999999999999999999", "EPSV \u{0}"] {
            #expect(codes(hostile, &s) == ["522"], "\(hostile)")
        }
    }

    /// PORT and EPRT arguments that trapped or were read too kindly (`UInt8(" 7")` takes a
    /// blank, `UInt16("+5282")` a sign): each is a 501 or 522, never a trap or a connection.
    @Test(arguments: [
        "PORT 192,0,2,7,19,+137", "PORT 192,0,2,7,19, 137", "PORT 192,0,2,7,19,137 ", "PORT 192,0,2,7,19,-1", "PORT 192,0,2,7,19,256",
        "PORT 192,0,2,7,19,137,1", "PORT 192,0,2,7,,19", "PORT ,,,,,", "PORT ,", "PORT 192,0,2,7,19,0x89", "PORT 192,0,2,7,19,99999999999999999999",
        "PORT 1,2,3,4", "PORT 192,0,2,7,19,137\u{0}", "EPRT |1|192.0.2.7|+5282|", "EPRT |1|192.0.2.7| 5282|", "EPRT |1|192.0.2.7|65536|",
        "EPRT |1|192.0.2.7|-1|", "EPRT |1|192.0.2.7||", "EPRT |1|192.0.2.7\u{0}junk|5282|", "EPRT |1| 192.0.2.7|5282|", "EPRT ||||",
        "EPRT |", "EPRT |1|192.0.2.7|5282", "EPRT |1|192.0.2.7|5282||", "EPRT x", "EPRT |2|192.0.2.7|5282|", "EPRT |1|::1|5282|",
    ])
    func hostileDataAddresses(_ line: String) {
        var s = loggedIn()
        #expect(["501", "522"].contains(codes(line, &s).joined(separator: " ")), "\(line.debugDescription)")
    }

    @Test func dataAddressParsing() {
        #expect(DataAddress.port("192,0,2,7,19,137") == SocketAddress(ip: IPAddress("192.0.2.7")!, port: 5001))
        #expect(DataAddress.port("192,0,2,7,255,255")?.port == 65535)
        #expect(DataAddress.eprt("!2!2001:db8::1!65535!") == SocketAddress(ip: IPAddress("2001:db8::1")!, port: 65535))
        #expect(DataAddress.eprtFamilyUnknown("|3|x|1|"))
        #expect(!DataAddress.eprtFamilyUnknown("|3|x|1"))
        #expect(DataAddress.epsv("") == .any)
        #expect(DataAddress.epsv("2") == .ipv6)
        #expect(DataAddress.epsv("+2") == nil)
    }

    @Test func fileOperations() throws {
        var s = loggedIn()
        #expect(codes("MDTM inside.txt", &s).first == "213")
        #expect(codes("MKD new dir", &s) == ["257"])
        #expect(FileManager.default.fileExists(atPath: root.path + "/root/new dir"))
        #expect(codes("MKD new dir", &s) == ["550"])
        #expect(codes("RNFR hello.txt", &s) == ["350"])
        #expect(codes("RNTO new dir/hi.txt", &s) == ["250"])
        #expect(FileManager.default.fileExists(atPath: root.path + "/root/new dir/hi.txt"))
        #expect(codes("RNTO again", &s) == ["503"])
        #expect(codes("RNFR nope", &s) == ["550"])
        #expect(codes("RMD new dir", &s) == ["550"])
        #expect(codes("DELE new dir/hi.txt", &s) == ["250"])
        #expect(codes("RMD new dir", &s) == ["250"])
        #expect(codes("DELE /", &s) == ["550"])
        #expect(codes("RNFR escape", &s) == ["550"])
        #expect(codes("RNFR docs", &s) == ["350"])
        #expect(codes("RNTO ../../moved", &s) == ["250"])
        #expect(FileManager.default.fileExists(atPath: root.path + "/root/moved"))
        #expect(codes("STOR upload.bin", &s) == ["receive"])
        #expect(codes("STOR .appserver-upload-x", &s) == ["553"])
        #expect(codes("SIZE moved", &s) == ["550"])
        #expect(codes("CWD", &s) == ["501"])
        #expect(codes("XYZZY", &s) == ["500"])
        #expect(codes("AUTH TLS", &s) == ["502"])
        #expect(codes("ABOR", &s) == ["abort"])
    }

    @Test func tlsVerbsAreUnknownWhenTLSIsOff() {
        var s = session()
        #expect(codes("AUTH TLS", &s) == ["530"])
        #expect(codes("FEAT", &s) == ["211"])
        var loggedIn = loggedIn()
        for line in ["AUTH TLS", "PBSZ 0", "PROT P", "CCC"] { #expect(codes(line, &loggedIn) == ["502"], "\(line)") }
    }

    @Test func helpNamesTheTLSVerbsOnlyWhenTLSIsOffered() {
        func help(_ tls: FTPSession.TLSPolicy) -> [String] {
            var s = session(tls: tls)
            guard case .reply(let reply)? = s.handle(Array("HELP".utf8)).first else { return [] }
            return reply.lines
        }
        #expect(help(.optional).contains("AUTH PBSZ PROT"))
        #expect(!help(.off).contains("AUTH PBSZ PROT"))
        #expect(help(.off).last == "Help OK")
    }

    @Test func authTLSThenPBSZAndPROT() {
        var s = session(tls: .optional)
        #expect(codes("PBSZ 0", &s) == ["503"])
        #expect(codes("PROT P", &s) == ["503"])
        #expect(codes("AUTH GSSAPI", &s) == ["504"])
        #expect(codes("USER alice", &s) == ["331"])
        #expect(codes("AUTH tls", &s) == ["234", "starttls"])
        #expect(s.controlProtected && s.user == nil)
        #expect(codes("PASS pw", &s) == ["503"], "AUTH TLS forgot the USER before it")
        #expect(codes("AUTH TLS", &s) == ["503"])
        #expect(codes("PROT P", &s) == ["503"], "PBSZ first")
        #expect(codes("PBSZ -1", &s) == ["501"])
        #expect(codes("PBSZ 99999999999", &s) == ["501"])
        #expect(codes("PBSZ 16384", &s) == ["200"])
        #expect(codes("PROT E", &s) == ["536"])
        #expect(codes("PROT X", &s) == ["504"])
        #expect(codes("PROT P", &s) == ["200"])
        #expect(s.protectsData)
        #expect(codes("PROT c", &s) == ["200"])
        #expect(!s.protectsData)
        #expect(codes("CCC", &s) == ["534"])
        var ssl = session(tls: .optional)
        #expect(codes("AUTH SSL", &ssl) == ["234", "starttls"])
        #expect(ssl.protectsData, "AUTH SSL protects data, as vsftpd has it")
    }

    @Test func authTLSAfterLoginIsRefused() {
        var s = session(tls: .optional)
        _ = codes("USER alice", &s)
        _ = codes("PASS pw", &s)
        _ = s.passwordChecked(user: "alice", success: true)
        #expect(codes("AUTH TLS", &s) == ["503"])
        #expect(codes("CCC", &s) == ["533"])
    }

    @Test func requiredTLSRefusesLoginsAndClearTransfersButAnonymous() {
        var s = session(anonymous: true, tls: .required)
        #expect(codes("USER alice", &s) == ["530"])
        #expect(codes("USER anonymous", &s) == ["331"])
        #expect(codes("PASS guest", &s) == ["230"])
        #expect(codes("NLST", &s).first?.hasPrefix("listing") == true, "anonymous transfers in clear")
        var user = session(tls: .required, implicitTLS: true)
        #expect(codes("USER alice", &user) == ["331"], "implicit FTPS is TLS already")
        #expect(codes("PASS pw", &user) == ["check alice:pw"])
        _ = user.passwordChecked(user: "alice", success: true)
        for line in ["LIST", "NLST", "MLSD", "RETR hello.txt", "STOR x", "APPE x"] { #expect(codes(line, &user) == ["521"], "\(line)") }
        #expect(codes("PWD", &user) == ["257"], "only transfers need protection")
        _ = codes("PBSZ 0", &user)
        _ = codes("PROT P", &user)
        #expect(codes("NLST", &user).first?.hasPrefix("listing") == true)
    }

    @Test func featListsTheTLSVerbsWhenOffered() {
        #expect(FTPReply.featuresWithTLS.bytes == Array("211-Features:\r\n AUTH TLS\r\n EPRT\r\n EPSV\r\n MDTM\r\n MLST type*;size*;modify*;perm*;unique*;\r\n PASV\r\n PBSZ\r\n PROT\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n UTF8\r\n211 End\r\n".utf8))
        var s = session(tls: .optional)
        #expect(s.handle(Array("FEAT".utf8)).first.map { if case .reply(let r) = $0 { r == .featuresWithTLS } else { false } } == true)
    }

    @Test func repliesOnTheWire() {
        #expect(FTPReply.features.bytes == Array("211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n MLST type*;size*;modify*;perm*;unique*;\r\n PASV\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n UTF8\r\n211 End\r\n".utf8))
        #expect(FTPReply.quoted("/a \"b\"") == "\"/a \"\"b\"\"\"")
    }
}

@Suite struct VirtualPathTests {
    @Test(arguments: [
        ("x", "/", "/x"), ("../../x", "/a", "/x"), ("/a/./b/../c", "/z", "/a/c"), ("..", "/", "/"), ("", "/a/b", "/a/b"),
        ("a//b/", "/", "/a/b"), ("%2e%2e", "/", "/%2e%2e"), ("dir with spaces", "/", "/dir with spaces"), ("élan", "/", "/élan"),
    ])
    func resolve(_ argument: String, _ cwd: String, _ expected: String) {
        #expect(VirtualFS.resolve(argument, cwd: cwd) == expected)
    }
}

@Suite struct ListingFormatTests {
    let file = VirtualFS.Entry(name: "report.pdf", isDirectory: false, size: 1234, modified: 1_764_032_523, mode: 0o100644, unique: "803U1a")
    let folder = VirtualFS.Entry(name: "docs", isDirectory: true, size: 4096, modified: 1_700_000_000, mode: 0o40755, unique: "803U2")

    @Test func lsLongFormat() {
        let text = String(decoding: ListingFormat.list([file, folder], now: 1_764_032_600), as: UTF8.self)
        #expect(text == "-rw-r--r-- 1 ftp ftp         1234 Nov 25 01:02 report.pdf\r\ndrwxr-xr-x 1 ftp ftp         4096 Nov 14  2023 docs\r\n")
    }

    @Test func mlsxFacts() {
        #expect(ListingFormat.facts(file, readOnly: false) == "type=file;size=1234;modify=20251125010203;perm=adfrw;unique=803U1a; report.pdf")
        #expect(ListingFormat.facts(folder, readOnly: true) == "type=dir;modify=20231114221320;perm=el;unique=803U2; docs")
        #expect(ListingFormat.timestamp(0) == "19700101000000")
    }
}

@Suite struct PasswordFileTests {
    /// Made by `openssl passwd -6/-5` and `mkpasswd -m yescrypt/bcrypt`, all for "secret".
    static let file = """
    # users
    sha512:$6$/LqNUgmSLgzb392/$2n92MxFUEHZtITOTkBJgwrfHHjFfZfX8joqNe6DZYoJ7PPlgeSz4iXBrUJIhZ60.qlf.vuTL9Q5ehK0LaxiPl1
    sha256:$5$lflEXspB5tLmfTZM$zs3ABO3EcZeVChozIUcx1Fi.nKSrA8x69kGx52PbaQ9
    yes:$y$j9T$M/SkoSofYGx/6igdwyFGV/$Fj9gJUd5C6X3HUgcShBBukIDCtTclW3VDFHGjtLCR.4
    blow:$2b$05$uTZ3Ha6AUlhhUUSMv8QvRuKbxXka3YVzQ3Y8PgX78uULsBheO5FRK
    locked:!

    """

    @Test func verifiesEveryHashKind() throws {
        let users = try PasswordFile(text: PasswordFileTests.file)
        for name in ["sha512", "sha256", "yes", "blow"] {
            #expect(users.verify(user: name, password: "secret"), "\(name)")
            #expect(!users.verify(user: name, password: "Secret"), "\(name)")
            #expect(!users.verify(user: name, password: ""), "\(name)")
        }
        #expect(!users.verify(user: "locked", password: "!"))
        #expect(!users.verify(user: "nobody-here", password: "secret"))
    }

    @Test func newHashesVerify() throws {
        let hash = try #require(PasswordFile.hash("pa:ss wörd"))
        #expect(hash.hasPrefix("$"))
        let users = try PasswordFile(text: "new:\(hash)\n")
        #expect(users.verify(user: "new", password: "pa:ss wörd"))
        #expect(PasswordFile.hash("pa:ss wörd") != hash)
    }

    @Test func malformedLinesNameTheLine() {
        #expect(throws: PasswordFile.Failure.self) { try PasswordFile(text: "ok:$6$x$y\nno colon here\n") }
        let twice = #expect(throws: PasswordFile.Failure.self) { try PasswordFile(text: "a:x\n\na:y\n", path: "users") }
        #expect(twice?.description == "users:3: 'a' is listed twice")
    }

    /// An unknown name is checked against one hash of the default kind, whatever the file holds.
    @Test func unknownNamesCostOneHashOfTheDefaultKind() throws {
        let fresh = try #require(PasswordFile.hash("x"))
        let method = { (hash: String) in hash.split(separator: "$", omittingEmptySubsequences: false).prefix(2).joined(separator: "$") }
        #expect(method(PasswordFile.dummy) == method(fresh))
        #expect(PasswordFile.crypt("anything", setting: PasswordFile.dummy) != nil)
        let users = try PasswordFile(text: "blow:$2b$05$uTZ3Ha6AUlhhUUSMv8QvRuKbxXka3YVzQ3Y8PgX78uULsBheO5FRK\n")
        #expect(!users.verify(user: "nobody", password: "secret"))
        #expect(!users.verify(user: "", password: ""))
        #expect(users.verify(user: "blow", password: "secret"))
    }

    /// A reload that fails keeps the users it had: the old password still works.
    @Test func aFailedReloadKeepsThePreviousUsers() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("users-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let hash = try #require(PasswordFile.hash("old"))
        try Data("alice:\(hash)\n".utf8).write(to: URL(fileURLWithPath: path))
        let users = try FTPUsers(path: path)
        try Data("alice:\(hash)\nno colon here\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(users.reload() == "\(path):2: expected 'name:hash' (keeping the previous users)")
        #expect(users.verify(user: "alice", password: "old"))
        try FileManager.default.removeItem(atPath: path)
        #expect(users.reload() == "cannot read the FTP users file \(path) (keeping the previous users)")
        #expect(users.verify(user: "alice", password: "old"))
        #expect(users.count == 1)
    }

    @Test func constantTimeComparison() {
        #expect(PasswordFile.constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!PasswordFile.constantTimeEqual(Array("abc".utf8), Array("abd".utf8)))
        #expect(!PasswordFile.constantTimeEqual(Array("abc".utf8), Array("abcd".utf8)))
    }
}
