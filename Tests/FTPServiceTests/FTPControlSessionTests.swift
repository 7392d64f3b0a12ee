import Dispatch
import Foundation
import Logging
import ServerCore
import Synchronization
import Testing
@testable import FTPService

/// The control connection as the service runs it (SessionDriver<FTPControlSession>), on a
/// TestConnection with a fake data side: a real folder, a real pool, no sockets.
@Suite struct FTPControlSessionTests {
    typealias Lines = CapturedLines

    /// A data link without a connection: a transfer waits until the test ends it.
    final class FakeLink: DataLink {
        private let state = Mutex<(transfer: Transfer?, done: DataChannel.Done?, closed: Bool)>((nil, nil, false))

        var transfer: Transfer? { state.withLock { $0.transfer } }
        var closed: Bool { state.withLock { $0.closed } }

        func run(_ transfer: Transfer, done: @escaping DataChannel.Done) {
            state.withLock { $0.transfer = transfer; $0.done = done }
        }

        func abort() -> Bool {
            guard let done = state.withLock({ state in defer { state.done = nil }; return state.done }) else { return false }
            done(.broken, nil)
            return true
        }

        func close() { state.withLock { $0.closed = true } }

        /// The data connection ends the transfer.
        func end(_ outcome: DataChannel.Outcome, bytes: Int64?) {
            state.withLock { state in defer { state.done = nil }; return state.done }?(outcome, bytes)
        }
    }

    final class FakeLinks: DataLinks {
        private let made = Mutex<[(link: FakeLink, tls: TLSServerContext?)]>([])
        var last: FakeLink? { made.withLock { $0.last?.link } }
        /// The TLS context the last link was made with (PROT P), nil in clear.
        var lastTLS: TLSServerContext? { made.withLock { $0.last?.tls } }

        func passive(local: IPAddress, peer: IPAddress, tls: TLSServerContext?) -> (link: any DataLink, port: UInt16)? {
            let link = FakeLink()
            made.withLock { $0.append((link, tls)) }
            return (link, 50000)
        }

        func active(to target: SocketAddress, local: IPAddress, tls: TLSServerContext?) -> any DataLink {
            let link = FakeLink()
            made.withLock { $0.append((link, tls)) }
            return link
        }
    }

    final class Fixture {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ftp-control-\(UUID().uuidString)").path
        let links = FakeLinks()
        let log = Lines()
        let connection: TestConnection

        init(pool: BlockingPool = BlockingPool(lanes: 2, capacity: 8), tls: Bool = false) throws {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data("hello\n".utf8).write(to: URL(fileURLWithPath: folder + "/hello.txt"))
            let log = log
            let users = FTPUsers(try PasswordFile(text: "alice:\(PasswordFile.hash("secret") ?? "!")\n"))
            var config = FTPConfiguration(fs: try VirtualFS(root: folder), users: users, anonymous: false,
                                          registry: try ListenerRegistry(workers: 1), passivePorts: nil,
                                          logger: Logger(label: "test") { _ in log })
            config.clock = { 1_764_000_000 }
            if tls {
                let (certificate, key) = try TLSSelfSigned.make(names: ["localhost"], addresses: [])
                config.tls = try TLSContextHolder(certificates: [try TLSCertificate(certificatePEM: certificate, keyPEM: key)],
                                                  ticketKeys: try TLSTicketKeys(), configuration: .init(alpn: ["ftp"]))
            }
            let id = ConnectionID(local: SocketAddress(ip: IPAddress("127.0.0.1")!, port: 21),
                                  remote: SocketAddress(ip: IPAddress("127.0.0.1")!, port: 40000))
            let session = FTPControlSession(config, id: id, links: links)
            connection = TestConnection(handler: SessionDriver(session, .init(service: "ftp", logger: config.logger, pool: pool,
                                                                              inputLimit: FTPControlSession.inputLimit)),
                                        local: id.local, remote: id.remote)
            connection.open()
            #expect(connection.takeText() == "220 appserver FTP ready\r\n")
        }

        deinit { try? FileManager.default.removeItem(atPath: folder) }

        func send(_ text: String) { #expect(connection.receive(Array(text.utf8)), "\(text) was taken") }

        /// Runs what the pool hands back until `text` has all arrived, or 5 s have passed.
        func replies(_ text: String) -> String {
            var got = connection.takeText()
            let deadline = Date().addingTimeInterval(5)
            while got.count < text.count, Date() < deadline {
                connection.runPending(waitingUpTo: 0.2)
                got += connection.takeText()
            }
            return got
        }

        func logIn() {
            send("USER alice\r\nPASS secret\r\n")
            #expect(replies("331 Please specify the password\r\n230 Login successful\r\n") == "331 Please specify the password\r\n230 Login successful\r\n")
        }
    }

    @Test func authTLSDropsWhatCameBehindItAndProtectedLinksGetTheScopedContext() throws {
        let f = try Fixture(tls: true)
        f.send("AUTH TLS\r\nUSER alice\r\nPASS secret\r\n")
        #expect(f.connection.takeText() == "234 Proceed with negotiation\r\n", "the login behind AUTH TLS is not answered")
        #expect(f.connection.startedTLS.count == 1)
        f.send("PWD\r\n")
        #expect(f.connection.takeText() == "530 Please login with USER and PASS\r\n")
        f.logIn()
        f.send("EPSV\r\n")
        _ = f.connection.takeText()
        #expect(f.links.lastTLS == nil, "PROT C: a clear data connection")
        f.send("PBSZ 0\r\nPROT P\r\nEPSV\r\n")
        #expect(f.connection.takeText().hasSuffix("229 Entering Extended Passive Mode (|||50000|)\r\n"))
        let data = try #require(f.links.lastTLS)
        #expect(data !== f.connection.startedTLS.first, "the data connections' own context, of the control connection's scope")
        #expect(data.certificates.first?.fingerprint == f.connection.startedTLS.first?.certificates.first?.fingerprint)
    }

    @Test func aLineBehindAPasswordCheckWaitsForIt() throws {
        let f = try Fixture()
        f.send("USER alice\r\nPASS secret\r\nPWD\r\n")
        #expect(f.connection.takeText() == "331 Please specify the password\r\n", "the check is off the queue; PWD waits behind it")
        #expect(f.connection.runPending(waitingUpTo: 5))
        #expect(f.connection.takeText() == "230 Login successful\r\n257 \"/\" is the current directory\r\n")
        #expect(f.log.all.contains { $0.hasSuffix(" login alice ok") }, "\(f.log.all)")
    }

    @Test func aFailedLoginWaitsOnATimerWithInputHeld() throws {
        let f = try Fixture()
        let started = Date()
        f.send("USER alice\r\nPASS wrong\r\nNOOP\r\n")
        #expect(f.connection.runPending(waitingUpTo: 5), "the check")
        #expect(f.connection.takeText() == "331 Please specify the password\r\n", "530 waits for the delay, NOOP behind it")
        #expect(f.connection.runPending(waitingUpTo: 5), "the delay")
        #expect(f.connection.takeText() == "530 Login incorrect\r\n200 Command okay\r\n")
        #expect(Date().timeIntervalSince(started) >= 0.9, "the first failure waits 1 s")
        #expect(f.log.all.contains { $0.hasSuffix(" login alice failed") }, "\(f.log.all)")
    }

    @Test func pipelinedRepliesToAPeerThatStopsReadingAreBoundedAndAllArrive() throws {
        let f = try Fixture()
        f.logIn()
        let reply = "200 Command okay\r\n"
        f.connection.outputLimit = 200
        f.connection.peerReading = false
        f.send(String(repeating: "NOOP\r\n", count: 100))
        #expect(f.connection.pendingOutputBytes >= 200 && f.connection.pendingOutputBytes < 200 + reply.utf8.count,
                "one answer past the limit at most: \(f.connection.pendingOutputBytes)")
        #expect(!f.connection.receive(Array("NOOP\r\n".utf8)), "not read while output is full")
        f.connection.peerReading = true
        #expect(f.connection.takeText() == String(repeating: reply, count: 100))
    }

    @Test func aDrainSaysGoodbyeAtOnceWhenIdleAndAfterTheTransferOtherwise() throws {
        let idle = try Fixture()
        idle.logIn()
        idle.connection.drain()
        #expect(idle.connection.takeText() == "421 Service shutting down\r\n")
        #expect(!idle.connection.isOpen)

        let busy = try Fixture()
        busy.logIn()
        busy.send("PASV\r\nRETR hello.txt\r\n")
        #expect(busy.replies("227 Entering Passive Mode (127,0,0,1,195,80)\r\n150 Opening data connection for hello.txt (6 bytes)\r\n")
                == "227 Entering Passive Mode (127,0,0,1,195,80)\r\n150 Opening data connection for hello.txt (6 bytes)\r\n")
        busy.connection.drain()
        #expect(busy.connection.takeText() == "" && busy.connection.isOpen, "the transfer finishes first")
        let link = try #require(busy.links.last)
        link.end(.complete, bytes: 6)
        #expect(busy.connection.runPending(waitingUpTo: 5))
        #expect(busy.connection.takeText() == "226 Transfer complete\r\n421 Service shutting down\r\n")
        #expect(!busy.connection.isOpen)
        #expect(busy.log.all.contains { $0.contains(" alice \"RETR hello.txt\" 226 6 ") && $0.hasSuffix("ms") }, "\(busy.log.all)")
    }

    @Test func abortDuringATransferEndsItAndTheRestKeepsItsOrder() throws {
        let f = try Fixture()
        f.logIn()
        f.send("EPSV\r\nRETR hello.txt\r\n")
        #expect(f.replies("229 Entering Extended Passive Mode (|||50000|)\r\n150 Opening data connection for hello.txt (6 bytes)\r\n")
                == "229 Entering Extended Passive Mode (|||50000|)\r\n150 Opening data connection for hello.txt (6 bytes)\r\n")
        let link = try #require(f.links.last)
        guard case .send(_, 0, 6, false) = link.transfer else {
            Issue.record("not the whole file, binary: \(String(describing: link.transfer))")
            return
        }
        f.send("NOOP\r\nABOR\r\n")
        #expect(f.connection.takeText() == "", "NOOP waits for the transfer; ABOR does not")
        #expect(f.connection.runPending(waitingUpTo: 5))
        #expect(f.connection.takeText() == "426 Connection closed; transfer aborted\r\n226 ABOR successful\r\n200 Command okay\r\n")
        #expect(link.closed)
        f.send("ABOR\r\n")
        #expect(f.connection.takeText() == "225 No transfer to abort\r\n")
        #expect(f.log.all.contains { $0.contains(" alice \"RETR hello.txt\" 426 - ") }, "\(f.log.all)")
    }

    @Test func aTransferWithoutADataChannelIs425AndTheUploadIsDropped() throws {
        let f = try Fixture()
        f.logIn()
        f.send("STOR new.txt\r\n")
        #expect(f.replies("425 Use PORT or PASV first\r\n") == "425 Use PORT or PASV first\r\n")
        let left = try FileManager.default.contentsOfDirectory(atPath: f.folder)
        #expect(left.sorted() == ["hello.txt"], "no temporary file is left")
    }

    @Test func listingsAreDatedByTheInjectedClock() throws {
        let f = try Fixture()
        f.logIn()
        // Six months before the clock: the year, not the time.
        let old = timespec(tv_sec: 1_764_000_000 - 200 * 86_400, tv_nsec: 0)
        let times = [old, old]
        #expect(times.withUnsafeBufferPointer { utimensat(AT_FDCWD, f.folder + "/hello.txt", $0.baseAddress, 0) } == 0)
        f.send("PASV\r\nLIST\r\n")
        _ = f.replies("227 Entering Passive Mode (127,0,0,1,195,80)\r\n150 Opening data connection for directory listing\r\n")
        let link = try #require(f.links.last)
        guard case .listing(let bytes) = link.transfer else {
            Issue.record("no listing: \(String(describing: link.transfer))")
            return
        }
        #expect(String(decoding: bytes, as: UTF8.self).contains(" 6 May 08  2025 hello.txt\r\n"), "\(String(decoding: bytes, as: UTF8.self))")
    }

    /// REST then STOR copies the first bytes of the old file: on the pool, never on the
    /// control connection's queue, where it stalled every connection sharing the worker.
    @Test func theRestCopyRunsOnThePoolNotTheControlQueue() throws {
        let pool = BlockingPool(lanes: 1, capacity: 4)
        let f = try Fixture(pool: pool)
        try Data("abcdefgh".utf8).write(to: URL(fileURLWithPath: f.folder + "/big.bin"))
        f.logIn()
        f.send("PASV\r\n")
        #expect(f.connection.takeText() == "227 Entering Passive Mode (127,0,0,1,195,80)\r\n")
        let release = DispatchSemaphore(value: 0)
        #expect(pool.submit { release.wait() })
        f.send("REST 3\r\nSTOR big.bin\r\n")
        #expect(f.connection.takeText() == "350 Restarting at 3. Send STOR or RETR\r\n", "the STOR waits for the pool; the queue is free")
        #expect(!f.connection.runPending(waitingUpTo: 0.2))
        release.signal()
        #expect(f.replies("150 Opening data connection for big.bin\r\n") == "150 Opening data connection for big.bin\r\n")
        let link = try #require(f.links.last)
        guard case .receive(let upload, false) = link.transfer else {
            Issue.record("no upload: \(String(describing: link.transfer))")
            return
        }
        #expect(Array("XYZ".utf8).withUnsafeBytes { upload.write($0) })
        #expect(upload.commit())
        link.end(.complete, bytes: 3)
        #expect(f.replies("226 Transfer complete\r\n") == "226 Transfer complete\r\n")
        #expect(try String(contentsOfFile: f.folder + "/big.bin", encoding: .utf8) == "abcXYZ")
    }

    @Test func aFullPoolAnswersBusyAndCloses() throws {
        let pool = BlockingPool(lanes: 1, capacity: 1)
        let f = try Fixture(pool: pool)
        let release = DispatchSemaphore(value: 0)
        #expect(pool.submit { release.wait() })
        f.send("USER alice\r\nPASS secret\r\n")
        #expect(f.connection.takeText() == "331 Please specify the password\r\n421 Server busy, try again later\r\n")
        #expect(!f.connection.isOpen)
        release.signal()
    }
}
