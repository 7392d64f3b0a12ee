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
                           local: IPAddress("127.0.0.1")!, timeout: 30)
    }

    /// The data connection came and went before RETR: the transfer ends at once (425)
    /// instead of leaving the control connection waiting until its idle timeout.
    @Test func aTransferAfterTheDataConnectionWentEndsAtOnce() throws {
        let channel = try channel()
        let data = TestConnection(handler: DataHandler(channel))
        data.open()
        data.receiveEOF()
        #expect(!data.isOpen)
        let ends = Ends()
        channel.run(.listing(Array("x\r\n".utf8))) { ends.done($0, $1) }
        #expect(ends.all == [.noConnection])
    }

    @Test func aListingGoesOutAndCompletesOnce() throws {
        let channel = try channel()
        let data = TestConnection(handler: DataHandler(channel))
        data.open()
        let ends = Ends()
        channel.run(.listing(Array("a\r\nb\r\n".utf8))) { ends.done($0, $1) }
        #expect(data.runPending() == 1)
        #expect(data.takeText() == "a\r\nb\r\n")
        #expect(!data.isOpen)
        #expect(ends.all == [.complete])
        #expect(!channel.abort(), "nothing left to abort")
        let second = TestConnection(handler: DataHandler(channel))
        second.open()
        #expect(!second.isOpen, "a second data connection is refused")
        #expect(ends.all == [.complete])
    }

    @Test func abortBeforeTheConnectionEndsTheTransferBroken() throws {
        let channel = try channel()
        let ends = Ends()
        channel.run(.listing([])) { ends.done($0, $1) }
        #expect(channel.abort())
        #expect(ends.all == [.broken])
        let late = TestConnection(handler: DataHandler(channel))
        late.open()
        #expect(!late.isOpen, "a data connection after the end is refused")
    }
}
