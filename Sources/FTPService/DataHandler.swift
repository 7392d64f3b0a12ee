import Glibc
import ServerCore

/// One data connection: sends a file (sendfile, or converted chunk by chunk in ASCII
/// mode) or a listing, or receives an upload into its temporary file, and tells the
/// channel how it ended: complete only once the data is sent, or on disk.
///
/// Confined to its connection's queue; reached from elsewhere only through
/// `connection.async`, hence `@unchecked Sendable`.
final class DataHandler: ConnectionHandler, @unchecked Sendable {
    private let channel: DataChannel?
    private var sending = false
    private var asciiSource: (file: FileDescriptor, offset: Int64, end: Int64)?
    private var upload: (file: Upload, ascii: Bool)?
    /// Upload bytes that came before the transfer was started.
    private var early: [UInt8] = []
    private var pendingCR = false
    /// The last byte sent in ASCII mode, so a CRLF split across chunks is not doubled.
    private var lastSent: UInt8 = 0
    private var reported = false
    /// Bytes given to the connection (a send) or received from it (an upload), for the log.
    private var moved: Int64 = 0

    static let chunk = 64 * 1024

    /// `channel` nil: a connection from the wrong address, closed at once.
    init(_ channel: DataChannel?) {
        self.channel = channel
    }

    func connectionOpened(_ connection: any ConnectionContext) {
        guard let channel else { return connection.close() }
        connection.setIdleTimeout(channel.timeout)
        channel.attach(connection, self)
    }

    func start(_ transfer: Transfer, on connection: any ConnectionContext) {
        switch transfer {
        case .listing(let bytes):
            sending = true
            moved = Int64(bytes.count)
            connection.write(bytes)
            connection.closeAfterFlush()
        case .send(let file, let offset, let count, let ascii):
            sending = true
            if ascii {
                asciiSource = (file, offset, offset + count)
                pump(connection)
            } else {
                moved = count
                connection.write(file: file, offset: offset, count: count)
                connection.closeAfterFlush()
            }
        case .receive(let file, let ascii):
            upload = (file, ascii)
            let waiting = early
            early = []
            if !waiting.isEmpty { waiting.withUnsafeBytes { store($0, on: connection) } }
            connection.resumeReading()
        }
    }

    func connection(_ connection: any ConnectionContext, received bytes: UnsafeRawBufferPointer) {
        // An upload that keeps coming is not idle, however long it takes.
        connection.setIdleTimeout(channel?.timeout)
        moved += Int64(bytes.count)
        guard upload != nil else {
            early.append(contentsOf: bytes)
            if early.count > 256 * 1024 { connection.pauseReading() }
            return
        }
        store(bytes, on: connection)
    }

    func connectionReceivedEOF(_ connection: any ConnectionContext) {
        guard let upload else { return connection.closeAfterFlush() }
        if pendingCR { _ = [UInt8(0x0D)].withUnsafeBytes { upload.file.write($0) } }
        self.upload = nil
        report(upload.file.commit() ? .complete : .localError)
        connection.close()
    }

    func connectionWritable(_ connection: any ConnectionContext) { pump(connection) }

    func connectionClosed(_ connection: any ConnectionContext, reason: CloseReason) {
        if let upload {
            upload.file.abandon()
            self.upload = nil
        }
        // A send is complete when everything went out and the server closed; a receive
        // that gets here did not reach EOF.
        switch reason {
        case .connectFailed: report(.noConnection)
        case .closedByServer where sending && asciiSource == nil: report(.complete)
        default: report(.broken)
        }
    }

    /// A send that did not complete moved an unknown part of what was queued: nil.
    private func report(_ outcome: DataChannel.Outcome) {
        guard !reported, let channel else { return }
        reported = true
        channel.finish(outcome, bytes: sending && outcome != .complete ? nil : moved)
    }

    /// ASCII downloads: LF becomes CRLF, a chunk at a time, while the peer keeps up.
    private func pump(_ connection: any ConnectionContext) {
        while let source = asciiSource {
            if connection.pendingOutputBytes >= 4 * DataHandler.chunk {
                connection.notifyWhenWritable()
                return
            }
            let want = Int(min(Int64(DataHandler.chunk), source.end - source.offset))
            var buffer = [UInt8](repeating: 0, count: want)
            let n = want > 0 ? buffer.withUnsafeMutableBytes { pread(source.file.fd, $0.baseAddress, want, off_t(source.offset)) } : 0
            guard n > 0 else {
                asciiSource = nil
                return n == 0 ? connection.closeAfterFlush() : connection.close()
            }
            var converted: [UInt8] = []
            converted.reserveCapacity(n + n / 16)
            for byte in buffer[0..<n] {
                if byte == 0x0A && lastSent != 0x0D { converted.append(0x0D) }
                converted.append(byte)
                lastSent = byte
            }
            connection.write(converted)
            moved += Int64(converted.count)
            asciiSource = (source.file, source.offset + Int64(n), source.end)
        }
    }

    /// Uploads: CRLF becomes LF in ASCII mode; a failed write ends the transfer.
    private func store(_ bytes: UnsafeRawBufferPointer, on connection: any ConnectionContext) {
        guard let upload else { return }
        let written: Bool
        if upload.ascii {
            var converted: [UInt8] = []
            converted.reserveCapacity(bytes.count + 1)
            if pendingCR, bytes.first != 0x0A { converted.append(0x0D) }
            pendingCR = false
            for (index, byte) in bytes.enumerated() {
                if byte == 0x0D {
                    if index == bytes.count - 1 { pendingCR = true; continue }
                    if bytes[index + 1] == 0x0A { continue }
                }
                converted.append(byte)
            }
            written = converted.withUnsafeBytes { upload.file.write($0) }
        } else {
            written = upload.file.write(bytes)
        }
        if !written {
            upload.file.abandon()
            self.upload = nil
            report(.localError)
            connection.close()
        }
    }
}
