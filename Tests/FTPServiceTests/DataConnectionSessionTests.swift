import Foundation
import Logging
import ServerCore
import Synchronization
import Testing
@testable import FTPService

/// The data connection's session on the test double, through its channel as the control
/// connection drives it: uploads split anywhere, a peer that stops reading a download,
/// data that comes before STOR's 150, and ABOR.
@Suite struct DataConnectionSessionTests {
    final class Folder: Sendable {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ftp-data-\(UUID().uuidString)").path
        let fs: VirtualFS
        init() throws {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            fs = try VirtualFS(root: path)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }

        func contents(_ name: String) -> [UInt8]? { FileManager.default.contents(atPath: path + "/" + name).map(Array.init) }
        var names: [String] { (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] }

        func upload(_ name: String) throws -> Upload {
            guard case .success(let upload) = fs.upload("/" + name, offset: 0, append: false) else { throw CocoaError(.fileWriteUnknown) }
            return upload
        }

        func file(_ name: String, _ bytes: [UInt8]) throws -> FileDescriptor {
            try Data(bytes).write(to: URL(fileURLWithPath: path + "/" + name))
            guard case .success((let file, _)) = fs.openForReading("/" + name) else { throw CocoaError(.fileReadUnknown) }
            return file
        }
    }

    final class Ends: Sendable {
        let ends = Mutex<[(DataChannel.Outcome, Int64?)]>([])
        var outcomes: [DataChannel.Outcome] { ends.withLock { $0.map(\.0) } }
        var bytes: [Int64?] { ends.withLock { $0.map(\.1) } }
        func done(_ outcome: DataChannel.Outcome, _ bytes: Int64?) { ends.withLock { $0.append((outcome, bytes)) } }
    }

    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// A channel with its data connection open and waiting for a transfer.
    func connected() throws -> (DataChannel, TestConnection) {
        let channel = DataChannel.active(registry: try ListenerRegistry(workers: 1), target: SocketAddress(ip: IPAddress("127.0.0.1")!, port: 2000),
                                         local: IPAddress("127.0.0.1")!, timeout: 30, logger: DataConnectionSessionTests.logger)
        let data = TestConnection(handler: DataConnectionSession.handler(channel, logger: DataConnectionSessionTests.logger))
        data.open()
        #expect(data.idleTimeout == 30)
        return (channel, data)
    }

    /// Runs the control connection's side: the transfer, and the hops to the data connection.
    func run(_ transfer: Transfer, on channel: DataChannel, _ data: TestConnection) -> Ends {
        let ends = Ends()
        channel.run(transfer) { ends.done($0, $1) }
        data.runPending()
        return ends
    }

    /// Waits for the commit on the blocking pool, and its close.
    func awaitCommit(_ data: TestConnection) {
        while data.isOpen && data.runPending(waitingUpTo: 5) {}
    }

    @Test(arguments: [false, true])
    func anUploadSplitAnywhereIsStoredWhole(ascii: Bool) throws {
        let folder = try Folder()
        let wire = Array("one\r\ntwo\r\rthree\r\n\r\n".utf8)
        let stored = ascii ? Array("one\ntwo\r\rthree\n\n".utf8) : wire
        for first in 0...wire.count {
            for second in first...wire.count {
                let (channel, data) = try connected()
                let ends = run(.receive(try folder.upload("up"), ascii: ascii), on: channel, data)
                for piece in [wire[..<first], wire[first..<second], wire[second...]] where !piece.isEmpty {
                    #expect(data.receive(Array(piece)))
                }
                data.receiveEOF()
                awaitCommit(data)
                #expect(!data.isOpen)
                #expect(ends.outcomes == [.complete])
                #expect(ends.bytes == [Int64(wire.count)])
                #expect(folder.contents("up") == stored, "split at \(first), \(second)")
            }
        }
        #expect(folder.names == ["up"], "no temporary file is left")
    }

    @Test func dataBeforeTheTransferStartsIsHeldThenStored() throws {
        let folder = try Folder()
        let (channel, data) = try connected()
        let body = [UInt8](repeating: 0x61, count: 300 * 1024)
        // The client sends everything and closes before STOR's file is open.
        #expect(data.receive(Array(body[..<(200 * 1024)])))
        #expect(data.receive(Array(body[(200 * 1024)...])))
        #expect(data.readingPaused, "past the input bound, reading waits")
        #expect(!data.receive([0x62]), "and the socket is not read")
        data.receiveEOF()
        #expect(data.isOpen, "the end is kept for the upload")
        let ends = run(.receive(try folder.upload("early"), ascii: false), on: channel, data)
        #expect(!data.readingPaused)
        awaitCommit(data)
        #expect(ends.outcomes == [.complete])
        #expect(folder.contents("early") == body)
    }

    @Test func aDownloadWaitsForAPeerThatStopsReading() throws {
        let folder = try Folder()
        let lines = [UInt8]((0..<(40 * 1024)).flatMap { Array("line \($0 % 10)\n".utf8) })
        let file = try folder.file("big.txt", lines)
        let (channel, data) = try connected()
        data.peerReading = false
        let ends = run(.send(file, offset: 0, count: Int64(lines.count), ascii: true), on: channel, data)
        let bound = DataConnectionSession.outputLimit + 2 * DataConnectionSession.chunk
        #expect(data.pendingOutputBytes >= DataConnectionSession.outputLimit)
        #expect(data.pendingOutputBytes <= bound, "converted a chunk at a time, only while the peer keeps up")
        #expect(ends.outcomes.isEmpty)
        data.peerReading = true
        #expect(!data.isOpen)
        #expect(ends.outcomes == [.complete])
        let sent = data.takeOutput()
        #expect(sent == Array(String(decoding: lines, as: UTF8.self).replacingOccurrences(of: "\n", with: "\r\n").utf8))
        #expect(ends.bytes == [Int64(sent.count)])
    }

    @Test func abortDuringAStalledDownloadEndsItBroken() throws {
        let folder = try Folder()
        let bytes = [UInt8](repeating: 0x7A, count: 1024 * 1024)
        let file = try folder.file("big.bin", bytes)
        let (channel, data) = try connected()
        data.peerReading = false
        let ends = run(.send(file, offset: 0, count: Int64(bytes.count), ascii: false), on: channel, data)
        #expect(data.isOpen && data.closedAfterFlush, "queued, waiting for the peer")
        #expect(channel.abort())
        data.runPending()
        #expect(!data.isOpen)
        #expect(ends.outcomes == [.broken])
        #expect(ends.bytes == [nil], "how much reached the peer is not known")
    }

    @Test func abortDuringAnUploadRemovesIt() throws {
        let folder = try Folder()
        let (channel, data) = try connected()
        let ends = run(.receive(try folder.upload("cut"), ascii: false), on: channel, data)
        #expect(data.receive(Array("part of it".utf8)))
        #expect(channel.abort())
        data.runPending()
        #expect(!data.isOpen)
        #expect(ends.outcomes == [.broken])
        #expect(folder.names.isEmpty, "the temporary file is gone, and nothing took the name")
    }

    @Test func abortBeforeTheTransferBeganStopsItWhenItBegins() throws {
        let folder = try Folder()
        let (channel, data) = try connected()
        let ends = Ends()
        channel.run(.receive(try folder.upload("never"), ascii: false)) { ends.done($0, $1) }
        #expect(channel.abort(), "a transfer was under way")
        data.runPending()
        data.runPending()
        #expect(!data.isOpen)
        #expect(ends.outcomes == [.broken])
        #expect(folder.names.isEmpty)
    }

    @Test func aConnectionFromAnotherAddressIsClosedAndSaysNothing() {
        let data = TestConnection(handler: DataConnectionSession.handler(nil, logger: DataConnectionSessionTests.logger))
        data.open()
        #expect(!data.isOpen)
    }
}
