import Logging
import ServerCore
import Synchronization
import Testing
@testable import FTPService

/// The data channel's states, with its data connection a TestConnection.
@Suite struct DataChannelTests {
    final class Ends: Sendable {
        let outcomes = Mutex<[DataChannel.Outcome]>([])
        var all: [DataChannel.Outcome] { outcomes.withLock { $0 } }
        func done(_ outcome: DataChannel.Outcome, _ bytes: Int64?) { outcomes.withLock { $0.append(outcome) } }
    }

    func channel() throws -> DataChannel {
        DataChannel.active(registry: try ListenerRegistry(workers: 1), target: SocketAddress(ip: IPAddress("127.0.0.1")!, port: 2000),
                           local: IPAddress("127.0.0.1")!, timeout: 30, logger: DataChannelTests.logger)
    }

    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    func dataConnection(_ channel: DataChannel) -> TestConnection {
        TestConnection(handler: DataConnectionSession.handler(channel, logger: DataChannelTests.logger))
    }

    /// The data connection came and went before RETR: the transfer ends at once (425)
    /// instead of leaving the control connection waiting until its idle timeout. (The
    /// connection stays until then: for an upload, the peer's end is the file's end.)
    @Test func aTransferAfterTheDataConnectionWentEndsAtOnce() throws {
        let channel = try channel()
        let data = dataConnection(channel)
        data.open()
        data.receiveEOF()
        let ends = Ends()
        channel.run(.listing(Array("x\r\n".utf8))) { ends.done($0, $1) }
        data.runPending()
        #expect(!data.isOpen)
        #expect(data.takeOutput().isEmpty)
        #expect(ends.all == [.noConnection])
    }

    /// The data connection closed (reset) before the transfer: there is none to use.
    @Test func aTransferAfterTheDataConnectionClosedEndsAtOnce() throws {
        let channel = try channel()
        let data = dataConnection(channel)
        data.open()
        data.close()
        let ends = Ends()
        channel.run(.listing(Array("x\r\n".utf8))) { ends.done($0, $1) }
        #expect(ends.all == [.noConnection])
    }

    @Test func aListingGoesOutAndCompletesOnce() throws {
        let channel = try channel()
        let data = dataConnection(channel)
        data.open()
        let ends = Ends()
        channel.run(.listing(Array("a\r\nb\r\n".utf8))) { ends.done($0, $1) }
        #expect(data.runPending() == 1)
        #expect(data.takeText() == "a\r\nb\r\n")
        #expect(!data.isOpen)
        #expect(ends.all == [.complete])
        #expect(!channel.abort(), "nothing left to abort")
        let second = dataConnection(channel)
        second.open()
        second.runPending()
        #expect(!second.isOpen, "a second data connection is refused")
        #expect(ends.all == [.complete])
    }

    @Test func abortBeforeTheConnectionEndsTheTransferBroken() throws {
        let channel = try channel()
        let ends = Ends()
        channel.run(.listing([])) { ends.done($0, $1) }
        #expect(channel.abort())
        #expect(ends.all == [.broken])
        let late = dataConnection(channel)
        late.open()
        late.runPending()
        #expect(!late.isOpen, "a data connection after the end is refused")
    }
}
