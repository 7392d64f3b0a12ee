import Foundation
import PropertyBased
import ServerCore
import Synchronization
import Testing
@testable import FTPService

/// Control lines framed and acted on by the session, as the handler does it.
@Suite struct FTPCommandInputTests {
    final class Root: Sendable {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ftp-split-\(UUID().uuidString)").path
        let fs: VirtualFS
        init() throws {
            try FileManager.default.createDirectory(atPath: path + "/docs", withIntermediateDirectories: true)
            try Data("hello\n".utf8).write(to: URL(fileURLWithPath: path + "/hello.txt"))
            fs = try VirtualFS(root: path)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    static let root = try! Root()

    /// Feeds `chunks` in turn, acting on every line after each; the password is right when it is "pw".
    static func run(_ chunks: [[UInt8]]) -> [String] {
        var input = FTPCommandInput()
        var session = FTPSession(anonymousAllowed: true, peer: IPAddress("192.0.2.7")!)
        var out: [String] = []
        func act(_ actions: [FTPSession.Action]) {
            for action in actions {
                switch action {
                case .reply(let reply): out.append(String(decoding: reply.bytes, as: UTF8.self))
                case .checkPassword(let user, let password): act(session.passwordChecked(user: user, success: password == "pw"))
                case .files(let request): act(session.finished(request.perform(on: root.fs, now: 0)))
                case .enterPassive(let extended): out.append("passive \(extended)")
                case .setActive(let address): out.append("active \(address)")
                case .transfer(let transfer, let what):
                    if case .receive(let upload, _) = transfer { upload.abandon() }
                    out.append("transfer \(what)")
                case .abort: out.append("abort")
                case .close: out.append("close")
                case .startTLS: out.append("starttls")
                }
            }
        }
        for chunk in chunks {
            input.receive(chunk)
            while let line = input.next() {
                switch line {
                case .tooLong: out.append("500 too long")
                case .line(let bytes): act(session.handle(bytes))
                }
            }
        }
        return out
    }

    static func split(_ bytes: [UInt8], sizes: [Int]) -> [[UInt8]] {
        var pieces: [[UInt8]] = []
        var offset = 0, turn = 0
        while offset < bytes.count {
            let size = max(1, sizes[turn % sizes.count])
            pieces.append(Array(bytes[offset..<min(bytes.count, offset + size)]))
            offset += size
            turn += 1
        }
        return pieces
    }

    static let pieces: [String] = [
        "USER alice\r\n", "PASS pw\r\n", "PASS wrong\r\n", "USER anonymous\r\n", "NOOP\r\n", "PWD\r\n", "CWD docs\r\n", "CDUP\r\n",
        "TYPE A\r\n", "TYPE I\r\n", "TYPE L 8\r\n", "REST 3\r\n", "REST -1\r\n", "REST +1\r\n", "RETR hello.txt\r\n", "SIZE hello.txt\r\n",
        "MDTM hello.txt\r\n", "SIZE \u{0}\r\n", "PORT 192,0,2,7,19,137\r\n", "PORT 1,2,3\r\n", "PORT ,,,,,\r\n", "EPRT |1|192.0.2.7|+5|\r\n",
        "EPRT ||||\r\n", "EPSV x\r\n", "EPSV ALL\r\n", "PASV\r\n", "NLST\r\n", "MLST\r\n", "STAT\r\n", "FEAT\r\n", "HELP\r\n", "RNFR hello.txt\r\n",
        "ABOR\r\n", "BOGUS\r\n", "\u{ff}\u{1}\r\n", "bare LF\n", "\r\n", "NOOP " + String(repeating: "x", count: 600) + "\r\n", "QUIT\r\n",
        // Lines at the 512-octet limit, counting CRLF: the longest accepted and the shortest refused.
        "NOOP " + String(repeating: "y", count: 505) + "\r\n", "NOOP " + String(repeating: "y", count: 506) + "\r\n",
    ]

    @Test func controlLinesGiveTheSameRepliesHoweverTheyAreSplit() async {
        await propertyCheck(input: Gen.int(in: 0...(FTPCommandInputTests.pieces.count - 1)).array(of: 1...40),
                            Gen.int(in: 1...80).array(of: 1...20)) { picks, sizes in
            let stream = Array(picks.map { FTPCommandInputTests.pieces[$0] }.joined().utf8)
            let whole = FTPCommandInputTests.run([stream])
            #expect(FTPCommandInputTests.run(stream.map { [$0] }) == whole, "byte by byte")
            #expect(FTPCommandInputTests.run(FTPCommandInputTests.split(stream, sizes: sizes)) == whole, "split at \(sizes)")
        }
    }

    @Test func abortIsTakenOutOfTurnAndTheRestKeepsItsOrder() {
        var input = FTPCommandInput()
        var took = false, line: FTPCommandInput.Line?
        input.receive(Array("NOOP\r\nPWD\r\nabor\r\nSYST\r\nABOR\r\n".utf8))
        took = input.takeAbort()
        #expect(took)
        #expect(input.bufferedBytes == 15)
        line = input.next()
        #expect(line == .line(Array("NOOP".utf8)))
        line = input.next()
        #expect(line == .line(Array("PWD".utf8)))
        line = input.next()
        #expect(line == .line(Array("SYST".utf8)))
        took = input.takeAbort()
        #expect(took)
        took = input.takeAbort()
        #expect(!took)
        line = input.next()
        #expect(line == nil)
        #expect(input.bufferedBytes == 0)
    }

    @Test func anAbortPastTheLookaheadWaitsItsTurn() {
        var input = FTPCommandInput()
        var took = false, line: FTPCommandInput.Line?
        input.receive(Array((String(repeating: "NOOP\r\n", count: FTPCommandInput.lookahead) + "ABOR\r\n").utf8))
        took = input.takeAbort()
        #expect(!took)
        for _ in 0..<FTPCommandInput.lookahead { #expect(input.next() == .line(Array("NOOP".utf8))) }
        line = input.next()
        #expect(line == .line(Array("ABOR".utf8)))
    }

    /// A clock that steps back (or a time read before another thread's entry) must not trap.
    @Test func throttleSurvivesAClockThatGoesBack() {
        let times = Mutex<[UInt64]>([1000, 10, 5000, 0])
        let throttle = LoginThrottle { times.withLock { $0.isEmpty ? 0 : $0.removeFirst() } }
        let ip = IPAddress("192.0.2.1")!
        #expect(throttle.failed(ip) == 1)
        #expect(throttle.failed(ip) == 2)
        #expect(throttle.failed(ip) == 1)
        #expect(throttle.failed(ip) == 2)
    }
}
