import Foundation
import Glibc
import ServerCore
import Testing

/// FTP over TLS on the wire, with a TLS client that shows what the server does with
/// plaintext behind AUTH TLS, the RFC 4217 verbs out of order, and data connections that
/// bring plaintext, a stranger's session, no session, or no handshake at all.
@Suite struct FTPSWireTests {
    /// A control connection under TLS, logged in, with PROT P and a passive port opened.
    func protectedPassive(_ server: TestFTPServer) throws -> (FTPSControl, UInt16) {
        let control = try FTPSControl(port: server.port)
        control.login()
        #expect(control.protectData())
        return (control, try #require(control.passivePort()))
    }

    @Test func plaintextPipelinedBehindAuthTLSIsNeverACommand() throws {
        let server = try TestFTPServer(tls: .optional)
        let client = try TLSTestClient(port: server.port)
        #expect(FTPSControl.plainLine(client).hasPrefix("220 "))
        // One packet: AUTH TLS and a login behind it, in plaintext.
        client.sendRaw(Array("AUTH TLS\r\nUSER alice\r\nPASS secret\r\n".utf8))
        #expect(FTPSControl.plainLine(client) == "234 Proceed with negotiation")
        try client.handshake()
        #expect(client.write("PWD\r\n"))
        #expect(String(decoding: client.read(atLeast: 5), as: UTF8.self).hasPrefix("530 "), "the login behind AUTH TLS was dropped")
        #expect(!server.log.all.contains { $0.contains("login alice") }, "\(server.log.all)")
    }

    @Test func theRFC4217VerbsInAndOutOfOrder() throws {
        let server = try TestFTPServer(tls: .optional)
        let plain = try FTPControl(port: server.port)
        let features = plain.send("FEAT")
        for line in [" AUTH TLS\r\n", " PBSZ\r\n", " PROT\r\n"] { #expect(features.contains(line), "\(features)") }
        #expect(plain.send("PBSZ 0").hasPrefix("503 "))
        #expect(plain.send("PROT P").hasPrefix("503 "))
        #expect(plain.send("AUTH KERBEROS").hasPrefix("504 "))
        plain.login()
        #expect(plain.send("AUTH TLS").hasPrefix("503 "), "after login the password went in clear already")

        let control = try FTPSControl(port: server.port)
        #expect(control.send("AUTH TLS").hasPrefix("503 "), "a second AUTH TLS")
        #expect(control.send("PROT P").hasPrefix("503 "), "PROT before PBSZ")
        #expect(control.send("PBSZ x").hasPrefix("501 "))
        #expect(control.send("PBSZ 1024") == "200 PBSZ=0")
        #expect(control.send("PROT S").hasPrefix("536 "))
        #expect(control.send("PROT Q").hasPrefix("504 "))
        #expect(control.send("PROT P") == "200 PROT now Private")
        #expect(control.send("CCC").hasPrefix("534 "), "the control connection stays encrypted")
        control.login()
        #expect(control.send("PWD").hasPrefix("257 "), "still spoken over TLS after CCC")
    }

    @Test func requiredRefusesLoginsAndTransfersInClearButAnonymous() throws {
        let server = try TestFTPServer(anonymous: true, tls: .required)
        try server.write("pub.txt", Array("public\n".utf8))
        let plain = try FTPControl(port: server.port)
        #expect(plain.send("USER alice").hasPrefix("530 "))
        #expect(plain.send("USER anonymous").hasPrefix("331 "))
        #expect(plain.send("PASS guest").hasPrefix("230 "))
        let port = try #require(plain.passivePort())
        #expect(plain.send("RETR pub.txt").hasPrefix("150 "), "anonymous may transfer in clear")
        #expect(try RawClient(port: port).readAll() == Array("public\n".utf8))
        #expect(plain.reply().hasPrefix("226 "))

        let control = try FTPSControl(port: server.port)
        control.login()
        #expect(control.send("LIST").hasPrefix("521 "), "PROT C is the default: a clear data connection")
        #expect(control.protectData())
        let protected = try #require(control.passivePort())
        #expect(control.send("NLST").hasPrefix("150 "))
        do {
            let listing = try TLSTestClient(port: protected, session: control.session)
            try listing.handshake()
            #expect(String(decoding: listing.readAll(), as: UTF8.self) == "pub.txt\r\n")
            #expect(listing.info.resumed)
        }
        #expect(control.reply().hasPrefix("226 "))
    }

    @Test func aDataConnectionMustResumeItsControlConnectionsSession() throws {
        let server = try TestFTPServer(tls: .optional)
        try server.write("file.txt", Array("secret data\n".utf8))
        let (stranger, _) = try protectedPassive(server)
        let strangerSession = try #require(stranger.session)

        // Another control connection's session: a full handshake, refused.
        let (control, port) = try protectedPassive(server)
        #expect(control.send("RETR file.txt").hasPrefix("150 "))
        let thief = try TLSTestClient(port: port, session: strangerSession)
        try? thief.handshake()
        #expect(!thief.info.resumed)
        #expect(thief.readAll().isEmpty, "nothing is sent to it")
        #expect(control.reply().hasPrefix("522 "))

        // No session at all: refused too.
        let fresh = try #require(control.passivePort())
        #expect(control.send("RETR file.txt").hasPrefix("150 "))
        let none = try TLSTestClient(port: fresh)
        try? none.handshake()
        #expect(none.readAll().isEmpty)
        #expect(control.reply().hasPrefix("522 "))

        // Its own session: served.
        let own = try #require(control.passivePort())
        #expect(control.send("RETR file.txt").hasPrefix("150 "))
        do {
            let data = try TLSTestClient(port: own, session: control.session)
            try data.handshake()
            #expect(data.info.resumed)
            #expect(data.readAll() == Array("secret data\n".utf8))
        }
        #expect(control.reply().hasPrefix("226 "))
    }

    @Test func plaintextOnAProtectedDataConnectionAndTLSOnAClearOne() throws {
        let server = try TestFTPServer(tls: .optional)
        try server.write("file.txt", Array("some data\n".utf8))
        let (control, port) = try protectedPassive(server)
        #expect(control.send("STOR plain.txt").hasPrefix("150 "))
        let plain = try RawClient(port: port)
        plain.send("not a TLS record\n")
        #expect(control.reply().hasPrefix("522 "))
        #expect(server.read("plain.txt") == nil)
        #expect(!FileManager.default.fileExists(atPath: server.root + "/.appserver-upload-plain.txt"))

        // PROT C: a ClientHello there is only bytes; the listing goes out in clear.
        #expect(control.send("PROT C").hasPrefix("200 "))
        let clear = try #require(control.passivePort())
        #expect(control.send("RETR file.txt").hasPrefix("150 "))
        do {
            let hello = try TLSTestClient(port: clear)
            #expect(throws: TLSError.self) { try hello.handshake() }
        }
        // All was sent; whether the client's close after its failed handshake was a reset
        // (it left bytes unread) decides between 226 and 426.
        let reply = control.reply()
        #expect(reply.hasPrefix("226 ") || reply.hasPrefix("426 "), "\(reply)")
        #expect(control.send("NOOP").hasPrefix("200 "), "the control connection is unharmed")
    }

    @Test func anUploadEndsAtCloseNotifyAndACutOneIsRemoved() throws {
        let server = try TestFTPServer(tls: .optional)
        let bytes = patternBytes(300_000, seed: 16)
        let (control, port) = try protectedPassive(server)
        #expect(control.send("STOR whole.bin").hasPrefix("150 "))
        let data = try TLSTestClient(port: port, session: control.session)
        try data.handshake()
        #expect(data.write(bytes))
        data.finish()
        #expect(control.reply().hasPrefix("226 "))
        #expect(server.read("whole.bin").map { $0 == bytes } == true)

        let next = try #require(control.passivePort())
        #expect(control.send("STOR cut.bin").hasPrefix("150 "))
        let cut = try TLSTestClient(port: next, session: control.session)
        try cut.handshake()
        #expect(cut.write(bytes))
        // The stream ends without close_notify: as a truncation would look.
        Glibc.shutdown(cut.fd, Int32(SHUT_WR))
        #expect(control.reply().hasPrefix("426 "))
        #expect(server.read("cut.bin") == nil)
        #expect((try? FileManager.default.contentsOfDirectory(atPath: server.root))?.filter { $0.contains("cut") } == [])
    }

    @Test func aDataHandshakeThatNeverFinishesMeetsTheDeadlineWhileOthersAreServed() throws {
        let server = try TestFTPServer(tls: .optional, handshakeTimeout: 1)
        try server.write("file.txt", Array("data\n".utf8))
        let (control, port) = try protectedPassive(server)
        #expect(control.send("RETR file.txt").hasPrefix("150 "))
        let silent = try RawClient(port: port)
        // Meanwhile another user is served over TLS.
        let other = try FTPSControl(port: server.port)
        other.login()
        #expect(other.send("PWD").hasPrefix("257 "))
        let started = Date()
        #expect(control.reply().hasPrefix("522 "))
        #expect(Date().timeIntervalSince(started) < 5)
        _ = silent
    }

    @Test func implicitFTPSGreetsOverTLSAndDropsPlaintext() throws {
        let server = try TestFTPServer(tls: .optional)
        let control = try FTPSControl(port: server.ftpsPort, implicitTLS: true)
        control.login()
        #expect(control.send("AUTH TLS").hasPrefix("503 "), "already TLS")
        #expect(control.send("PWD").hasPrefix("257 "))
        let plain = try RawClient(port: server.ftpsPort)
        plain.send("USER alice\r\n")
        #expect(plain.readAll().isEmpty, "plaintext on the FTPS port: closed without a word")
    }
}
