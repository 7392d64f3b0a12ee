import Foundation
import Glibc
import Testing

/// Refused commands, logins and transfers leave a line each, wire text escaped; PASV
/// announces the configured address.
@Suite struct FTPLogTests {
    @Test func refusedFileCommandsAreLogged() throws {
        let server = try TestFTPServer()
        let control = try FTPControl(port: server.port)
        control.login()
        #expect(control.send("MKD /missing/sub").hasPrefix("550"))
        #expect(control.send("RMD /missing").hasPrefix("550"))
        #expect(control.send("DELE /missing.txt").hasPrefix("550"))
        #expect(control.send("RNFR /missing.txt").hasPrefix("550"))
        #expect(control.send("RNTO /elsewhere.txt").hasPrefix("503"))
        #expect(control.send("MKD made").hasPrefix("257"))
        #expect(control.send("RETR nothing.txt").hasPrefix("550"))
        #expect(control.send("STOR new.txt").hasPrefix("425"), "no PASV or PORT first")
        control.send("QUIT")
        for expected in ["\"MKD /missing/sub\" 550", "\"RMD /missing\" 550", "\"DELE /missing.txt\" 550",
                         "\"RNFR /missing.txt\" 550", "\"RNTO /elsewhere.txt\" 503", "\"MKD made\" 257",
                         "\"RETR nothing.txt\" 550", "\"STOR new.txt\" 425"] {
            let line = try #require(server.log.line(containing: expected), "\(expected): \(server.log.all)")
            #expect(line.hasPrefix("ftp 127.0.0.1:") && line.contains("-> 127.0.0.1:\(server.port) alice \""), "\(line)")
        }
    }

    @Test func anonymousAttemptsAndFailedLoginsAreLogged() throws {
        let closed = try TestFTPServer()
        let refused = try FTPControl(port: closed.port)
        #expect(refused.send("USER anonymous").hasPrefix("530"))
        #expect(refused.send("USER a\"b\rc").hasPrefix("331"))
        #expect(refused.send("PASS wrong").hasPrefix("530"))
        #expect(closed.log.line(containing: "- \"USER anonymous\" 530") != nil, "\(closed.log.all)")
        #expect(closed.log.line(containing: "login a\\x22b\\x0Dc failed") != nil, "\(closed.log.all)")
        #expect(!closed.log.all.contains { $0.contains("wrong") }, "a password is not logged")

        let open = try TestFTPServer(anonymous: true)
        let visitor = try FTPControl(port: open.port)
        visitor.send("USER anonymous")
        #expect(visitor.send("PASS me@example.test").hasPrefix("230"))
        #expect(visitor.send("MKD x").hasPrefix("550"))
        #expect(open.log.line(containing: "login anonymous ok") != nil, "\(open.log.all)")
        #expect(open.log.line(containing: "anonymous \"MKD x\" 550") != nil, "\(open.log.all)")
    }

    @Test func transfersLogTheirByteCounts() throws {
        let server = try TestFTPServer()
        try server.write("file.txt", Array("payload".utf8))
        let control = try FTPControl(port: server.port)
        control.login()
        let uploadPort = try #require(control.passivePort())
        let upload = try #require(connect(port: uploadPort, from: "127.0.0.1"))
        #expect(control.send("STOR up.bin").hasPrefix("150"))
        _ = patternBytes(1000).withUnsafeBytes { send(upload, $0.baseAddress, $0.count, 0) }
        close(upload)
        #expect(control.reply().hasPrefix("226"))
        let downloadPort = try #require(control.passivePort())
        let download = try #require(connect(port: downloadPort, from: "127.0.0.1"))
        #expect(control.send("RETR file.txt").hasPrefix("150"))
        var buffer = [UInt8](repeating: 0, count: 100)
        _ = recv(download, &buffer, 7, Int32(MSG_WAITALL))
        close(download)
        #expect(control.reply().hasPrefix("226"))
        #expect(server.log.line(containing: "alice \"STOR up.bin\" 226 1000 ") != nil, "\(server.log.all)")
        #expect(server.log.line(containing: "alice \"RETR file.txt\" 226 7 ") != nil, "\(server.log.all)")
    }

    @Test func aQuoteAndALineEndInAnArgumentAreEscaped() throws {
        let server = try TestFTPServer()
        let control = try FTPControl(port: server.port)
        control.login()
        // A CR alone stays in the line; an LF ends it, the rest being a command of its own.
        control.client.send("DELE a\"b\r\" 250 forged\r\nDELE c\n\" 250 x\r\n")
        #expect(control.reply().hasPrefix("550"))
        #expect(control.reply().hasPrefix("550"))
        #expect(control.reply().hasPrefix("5"))
        #expect(server.log.line(containing: "\"DELE a\\x22b\\x0D\\x22 250 forged\" 550") != nil, "\(server.log.all)")
        #expect(server.log.line(containing: "\"\\x22 250 x\" 5") != nil, "\(server.log.all)")
        for line in server.log.all {
            #expect(!line.contains("\n") && !line.contains("\r") && !line.contains("\" 250 "), "\(line)")
        }
    }

    /// PASV's `(h1,h2,h3,h4,p1,p2)`.
    static func pasv(_ reply: String) -> (address: [Int], port: UInt16)? {
        guard reply.hasPrefix("227"), let inner = reply.split(separator: "(").last?.split(separator: ")").first else { return nil }
        let numbers = inner.split(separator: ",").compactMap { Int($0) }
        guard numbers.count == 6 else { return nil }
        return (Array(numbers.prefix(4)), UInt16(numbers[4] << 8 | numbers[5]))
    }

    @Test func pasvAnnouncesTheConfiguredAddressAndDataStillFlows() throws {
        let server = try TestFTPServer(passiveAddress: "127.0.0.1")
        try server.write("file.txt", Array("payload".utf8))
        let control = try FTPControl(port: server.port)
        control.login()
        let (address, port) = try #require(FTPLogTests.pasv(control.send("PASV")))
        #expect(address == [127, 0, 0, 1])
        let data = try #require(connect(port: port, from: "127.0.0.1"))
        #expect(control.send("RETR file.txt").hasPrefix("150"))
        var buffer = [UInt8](repeating: 0, count: 100)
        let n = recv(data, &buffer, 7, Int32(MSG_WAITALL))
        close(data)
        #expect(Array(buffer[0..<max(0, n)]) == Array("payload".utf8))
        #expect(control.reply().hasPrefix("226"))
    }

    @Test func pasvNamesAnotherAddressWhenTold() throws {
        let server = try TestFTPServer(passiveAddress: "127.0.0.2")
        let control = try FTPControl(port: server.port)
        control.login()
        let reply = control.send("PASV")
        #expect(FTPLogTests.pasv(reply)?.address == [127, 0, 0, 2], "\(reply)")
        // EPSV names no address, and still opens a port.
        #expect(control.passivePort() != nil)
    }
}
