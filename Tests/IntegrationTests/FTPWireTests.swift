import Foundation
import Glibc
import Testing

/// Byte-exact FTP conversations: data connection theft, limits, aborted uploads.
@Suite struct FTPWireTests {
    @Test func passiveDataOnlyFromTheControlPeer() throws {
        let server = try TestFTPServer()
        try server.write("file.txt", Array("payload".utf8))
        let control = try FTPControl(port: server.port)
        control.login()
        let port = try #require(control.passivePort())
        // Another host (127.0.0.2 here) connecting first is turned away...
        let thief = try #require(connect(port: port, from: "127.0.0.2"))
        var byte: UInt8 = 0
        #expect(recv(thief, &byte, 1, 0) <= 0)
        close(thief)
        // ...and the real client still gets the data.
        let data = try #require(connect(port: port, from: "127.0.0.1"))
        #expect(control.send("RETR file.txt").hasPrefix("150"))
        var buffer = [UInt8](repeating: 0, count: 100)
        let n = recv(data, &buffer, 7, Int32(MSG_WAITALL))
        close(data)
        #expect(Array(buffer[0..<max(0, n)]) == Array("payload".utf8))
        #expect(control.reply().hasPrefix("226"))
    }

    @Test func passivePortsComeFromTheConfiguredRange() throws {
        let server = try TestFTPServer(passivePorts: 41000...41009)
        let control = try FTPControl(port: server.port)
        control.login()
        for _ in 0..<3 {
            let port = try #require(control.passivePort())
            #expect((41000...41009).contains(port))
        }
        let pasv = control.send("PASV")
        let numbers = pasv.split(separator: "(").last?.split(separator: ")").first?.split(separator: ",").compactMap { UInt16($0) } ?? []
        #expect(numbers.count == 6 && Array(numbers.prefix(4)) == [127, 0, 0, 1])
        #expect((41000...41009).contains(numbers.count == 6 ? numbers[4] << 8 | numbers[5] : 0))
    }

    @Test func abortedUploadLeavesTheOldFileWhole() throws {
        let server = try TestFTPServer()
        try server.write("keep.bin", patternBytes(1000))
        let control = try FTPControl(port: server.port)
        control.login()
        let port = try #require(control.passivePort())
        let data = try #require(connect(port: port, from: "127.0.0.1"))
        #expect(control.send("STOR keep.bin").hasPrefix("150"))
        _ = patternBytes(5000, seed: 9).withUnsafeBytes { send(data, $0.baseAddress, $0.count, 0) }
        var linger = linger(l_onoff: 1, l_linger: 0)
        setsockopt(data, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
        close(data)
        #expect(control.reply().hasPrefix("426"))
        #expect(server.read("keep.bin") == patternBytes(1000))
        #expect((try? FileManager.default.contentsOfDirectory(atPath: server.root)) == ["keep.bin"])
    }

    @Test func abortDuringADownload() throws {
        let server = try TestFTPServer()
        try server.write("huge.bin", patternBytes(32 * 1024 * 1024))
        let control = try FTPControl(port: server.port)
        control.login()
        let port = try #require(control.passivePort())
        let data = try #require(connect(port: port, from: "127.0.0.1"))
        #expect(control.send("RETR huge.bin").hasPrefix("150"))
        control.client.send("ABOR\r\n")
        #expect(control.reply().hasPrefix("426"))
        #expect(control.reply().hasPrefix("226"))
        close(data)
        #expect(control.send("NOOP").hasPrefix("200"))
    }

    @Test func limitsAndBadInput() throws {
        let server = try TestFTPServer(maxConnectionsPerAddress: 2)
        let first = try FTPControl(port: server.port)
        #expect(first.send("USER alice " + String(repeating: "x", count: 600)).hasPrefix("500"))
        #expect(first.send("NOOP").hasPrefix("200"))
        let second = try RawClient(port: server.port)
        _ = second.read(atLeast: 5)
        let third = try RawClient(port: server.port)
        #expect(String(decoding: third.readAll(), as: UTF8.self).hasPrefix("421"))
        second.send(patternBytes(3000) + Array("\r\n".utf8))
        #expect(first.send("RETR x").hasPrefix("530"))
        first.login()
        #expect(first.send("RETR missing").hasPrefix("550"))
        #expect(first.send("RETR \u{0}").hasPrefix("550"))
        #expect(first.send("LIST").hasPrefix("425"))
        #expect(first.send("QUIT").hasPrefix("221"))
        #expect(server.log.line(containing: "- \"-\" 500") != nil, "the long line: \(server.log.all)")
        #expect(server.log.line(containing: "refused: too many connections from this address") != nil, "\(server.log.all)")
        #expect(server.log.line(containing: "- \"RETR x\" 530") != nil, "\(server.log.all)")
        #expect(server.log.line(containing: "alice \"LIST\" 425") != nil, "\(server.log.all)")
    }

    @Test func wrongPasswordsAreSlowedDown() throws {
        let server = try TestFTPServer()
        let control = try FTPControl(port: server.port)
        control.send("USER alice")
        let started = Date()
        #expect(control.send("PASS wrong").hasPrefix("530"))
        control.send("USER alice")
        #expect(control.send("PASS wrong").hasPrefix("530"))
        #expect(Date().timeIntervalSince(started) >= 2.9)
        control.send("USER alice")
        #expect(control.send("PASS secret").hasPrefix("230"))
    }

    /// Pipelined commands from a client that does not read: replies stop once 1 MiB waits,
    /// whatever one read held (64 KiB of HELP lines asks for over 2 MB of replies), and all
    /// of them come once the client reads.
    @Test func repliesToPipelinedCommandsAreBoundedPerAnswer() throws {
        let server = try TestFTPServer()
        let client = try RawClient(port: server.port)
        _ = client.read(atLeast: 5)
        let count = 30_000
        client.sendInBackground(Array((String(repeating: "HELP\r\n", count: count) + "QUIT\r\n").utf8))
        #expect(pollUntil(within: 20) { server.outputPeak.bytes >= 1024 * 1024 }, "the server never filled its output: \(server.outputPeak.bytes)")
        let replies = String(decoding: client.readAll(), as: UTF8.self)
        #expect(server.outputPeak.bytes < 1024 * 1024 + 512, "\(server.outputPeak.bytes) bytes waited")
        #expect(replies.components(separatedBy: "214 Help OK\r\n").count == count + 1)
        #expect(replies.hasSuffix("221 Goodbye\r\n"))
    }

    /// An idle control connection hears 421 before it is closed, as vsftpd says it.
    @Test func idleControlConnectionGets421() throws {
        let server = try TestFTPServer(idleTimeout: 1)
        let client = try RawClient(port: server.port)
        #expect(String(decoding: client.read(atLeast: 4), as: UTF8.self).hasPrefix("220 "))
        #expect(String(decoding: client.readAll(), as: UTF8.self).hasPrefix("421 "))
    }

}
