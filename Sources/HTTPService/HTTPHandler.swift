import ServerCore

/// The HTTP service's connection handler: `SessionDriver<HTTPSession>`, seen through a
/// connection whose output counts as full at `highWater` (256 KiB by default) rather than
/// the connection's own 1 MiB; the driver has no per-service output bound, and this one
/// keeps what a peer that pipelines without reading makes the server hold small.
///
/// The bound, per connection, whatever a peer pipelines without reading: the output queue
/// is checked before each step, so it holds less than `highWater` plus one answer. An
/// answer keeps in memory its head and at most one body copy: up to `inlineFileLimit` read
/// for it, a file kept whole by the open-file cache (`keepInMemory`), a gzip-cache entry
/// (`GzipCache.fileLimit` before compression) or one compressed chunk; larger files go by
/// sendfile and hold a descriptor. Unanswered requests wait in the parser, and reading
/// stops past `maxHead` of them, so they are at most that plus one read (64 KiB), in a
/// buffer at most twice that. With the defaults: under 256 KiB + 1 MiB of output and
/// 200 KiB of input (measured, 32 pipelined GETs of a 20 KiB file with nothing read:
/// 263 KiB queued; of a 3 MiB file: one answer).
final class HTTPHandler: ConnectionHandler {
    private let driver: SessionDriver<HTTPSession>
    private let highWater: Int
    /// The connection as the driver sees it; dropped when it closes (it holds the connection).
    private var bounded: HighWater?

    init(_ shared: HTTPSession.Shared, id: ConnectionID) {
        driver = SessionDriver(HTTPSession(shared, id: id), shared.driver)
        highWater = shared.config.highWater
    }

    private func view(_ connection: any ConnectionContext) -> HighWater {
        if let bounded, bounded.inner === connection { return bounded }
        let view = HighWater(connection, highWater)
        bounded = view
        return view
    }

    func connectionOpened(_ connection: any ConnectionContext) { driver.connectionOpened(view(connection)) }

    func connection(_ connection: any ConnectionContext, received bytes: UnsafeRawBufferPointer) {
        driver.connection(view(connection), received: bytes)
    }

    func connectionReceivedEOF(_ connection: any ConnectionContext) { driver.connectionReceivedEOF(view(connection)) }
    func connectionWritable(_ connection: any ConnectionContext) { driver.connectionWritable(view(connection)) }
    func connectionShouldDrain(_ connection: any ConnectionContext) { driver.connectionShouldDrain(view(connection)) }

    func connectionClosed(_ connection: any ConnectionContext, reason: CloseReason) {
        driver.connectionClosed(view(connection), reason: reason)
        bounded = nil
    }

    /// `inner`, with `outputIsFull` true from `highWater` bytes.
    private final class HighWater: ConnectionContext {
        let inner: any ConnectionContext
        let highWater: Int

        init(_ inner: any ConnectionContext, _ highWater: Int) {
            self.inner = inner
            self.highWater = highWater
        }

        var id: ConnectionID { inner.id }
        var isOpen: Bool { inner.isOpen }
        var pendingOutputBytes: Int { inner.pendingOutputBytes }
        var outputIsFull: Bool { inner.pendingOutputBytes >= highWater || inner.outputIsFull }
        func write(_ bytes: [UInt8]) { inner.write(bytes) }
        func write(file: FileDescriptor, offset: Int64, count: Int64) { inner.write(file: file, offset: offset, count: count) }
        func notifyWhenWritable() { inner.notifyWhenWritable() }
        func closeAfterFlush(lingering: Bool) { inner.closeAfterFlush(lingering: lingering) }
        func close() { inner.close() }
        func pauseReading() { inner.pauseReading() }
        func resumeReading() { inner.resumeReading() }
        func setIdleTimeout(_ seconds: Double?) { inner.setIdleTimeout(seconds) }
        func async(_ body: @escaping @Sendable (any ConnectionContext) -> Void) { inner.async { [self] _ in body(self) } }
    }
}
