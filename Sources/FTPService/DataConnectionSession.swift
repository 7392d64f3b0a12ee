import Glibc
import Logging
import ServerCore

/// One data connection as `SessionDriver` runs it: it waits, holding whatever the peer
/// sends, until the control connection runs a transfer on its channel; then it sends a file
/// (sendfile, or converted a chunk per step in ASCII mode) or a listing, or stores an upload
/// as it arrives, and tells the channel how it ended: complete only once the data is sent,
/// or on disk (the fsync runs on the blocking pool).
///
/// The wait for the transfer is the driver's `.wait(holdsInput: true)`: upload bytes that
/// come before STOR's 150 stay in `input`, and past `inputLimit` reading pauses. A peer that
/// sends everything and closes before the transfer starts still has its upload stored.
struct DataConnectionSession: ConnectionSession {
    enum Completion: Sendable {
        /// The control connection runs this transfer here.
        case start(Transfer)
        /// ABOR, a new PASV or PORT, the control connection gone: close now.
        case stop
        /// The channel has its data connection already (or has ended): this one is not
        /// wanted, and says nothing about the transfer.
        case refused
        /// The upload's fsync and rename, done.
        case stored(Bool)
    }

    private enum Phase {
        case waiting
        /// Everything is queued; the close after the flush completes it.
        case sending
        /// ASCII download: the part of the file not yet converted.
        case converting(FileDescriptor, offset: Int64, end: Int64, ASCIIType.ToNetwork)
        case receiving(Upload, ascii: ASCIIType.FromNetwork?)
        /// The upload's commit is on the blocking pool.
        case storing
        case ended
    }

    static let chunk = 64 * 1024
    /// Input held before the transfer starts, or between steps, before reading pauses.
    static let inputLimit = 256 * 1024
    /// Unsent output past which an ASCII download converts no further chunk.
    static let outputLimit = 4 * chunk

    /// nil: a connection from the wrong address, closed at once.
    private let channel: DataChannel?
    private var phase = Phase.waiting
    private var input: [UInt8] = []
    private var freshInput = false
    private var peerHasClosed = false
    /// A download (its bytes are not known when it breaks off), rather than an upload.
    private var sending = false
    private var reported = false
    /// Closed by `.stop`, not by the end of what it sent.
    private var stopped = false
    /// Bytes given to the connection (a send) or stored (an upload), for the log.
    private var moved: Int64 = 0

    init(_ channel: DataChannel?) {
        self.channel = channel
    }

    /// The driver for one data connection on `channel`.
    static func handler(_ channel: DataChannel?, logger: Logger) -> any ConnectionHandler {
        SessionDriver(DataConnectionSession(channel), .init(service: "ftp-data", logger: logger, inputLimit: inputLimit,
                                                            outputLimit: outputLimit))
    }

    var bufferedBytes: Int { input.count }

    /// Under PROT P the connection is TLS before anything else: nothing is queued yet,
    /// so the session starts at once, and what the transfer writes goes encrypted.
    mutating func start() -> Actions {
        guard let channel else { return [.close] }
        let tls: Actions = channel.tls.map { [.startTLS($0)] } ?? []
        return [.idleTimeout(channel.timeout)] + tls + [.wait(holdsInput: true) { resume in channel.attach(resume) }]
    }

    mutating func receive(_ bytes: UnsafeRawBufferPointer) {
        input.append(contentsOf: bytes)
        freshInput = true
    }

    mutating func step() -> Actions? {
        var out: Actions = []
        if freshInput {
            // An upload that keeps coming is not idle, however long it takes.
            freshInput = false
            out.append(.idleTimeout(channel?.timeout))
        }
        switch phase {
        case .converting(let file, let offset, let end, var ascii):
            return out + convert(file, from: offset, to: end, &ascii)
        case .receiving(let upload, var ascii):
            if !input.isEmpty {
                let written: Bool
                if var converter = ascii {
                    written = converter.convert(input[...]).withUnsafeBytes(upload.write)
                    ascii = converter
                } else {
                    written = input.withUnsafeBytes(upload.write)
                }
                moved += Int64(input.count)
                input.removeAll(keepingCapacity: true)
                phase = .receiving(upload, ascii: ascii)
                return out + (written ? [] : fail(upload))
            }
            if peerHasClosed { return out + store(upload, ascii: ascii) }
        case .waiting, .sending, .storing, .ended:
            // What a peer sends on a download is of no use.
            input.removeAll()
        }
        return out.isEmpty ? nil : out
    }

    mutating func complete(_ completion: Completion) -> Actions {
        switch completion {
        case .stop:
            stopped = true
            return [.close]
        case .refused:
            reported = true
            phase = .ended
            return [.close]
        case .stored(let success):
            phase = .ended
            report(success ? .complete : .localError)
            return [.close]
        case .start(let transfer):
            guard case .waiting = phase, let channel else { return [] }
            if peerHasClosed, !transfer.isUpload {
                // The peer came and went before the transfer: there is no one to send to.
                phase = .ended
                report(.noConnection)
                return [.close]
            }
            var out: Actions = [.wait(holdsInput: false) { stop in channel.started(stop) }]
            switch transfer {
            case .listing(let bytes):
                sending = true
                phase = .sending
                moved = Int64(bytes.count)
                out += [.write(bytes), .closeAfterFlush(lingering: true)]
            case .send(let file, let offset, let count, let ascii):
                sending = true
                if ascii {
                    phase = .converting(file, offset: offset, end: offset + count, ASCIIType.ToNetwork())
                } else {
                    phase = .sending
                    moved = count
                    out += [.writeFile(file, offset: offset, count: count), .closeAfterFlush(lingering: true)]
                }
            case .receive(let upload, let ascii):
                phase = .receiving(upload, ascii: ascii ? ASCIIType.FromNetwork() : nil)
            }
            return out
        }
    }

    /// The end of an upload is the peer's close; a download goes on (the peer may only
    /// have shut its sending side); before the transfer, the end is kept for it.
    mutating func peerClosed() -> Actions {
        peerHasClosed = true
        switch phase {
        case .receiving(let upload, let ascii): return store(upload, ascii: ascii)
        case .ended: return [.closeAfterFlush(lingering: true)]
        case .waiting, .sending, .converting, .storing: return []
        }
    }

    mutating func closed(_ reason: CloseReason) -> Actions {
        switch (phase, reason) {
        // Under TLS, an upload ends at the peer's close_notify: a close without it is a cut.
        case (.receiving(let upload, _), _):
            upload.abandon()
            report(reason == .tlsFailed ? .tlsFailed : .broken)
        case (_, .connectFailed): report(.noConnection)
        // Plaintext where TLS was due, a failed handshake, or (reuse required) no resumption.
        case (_, .tlsFailed): report(.tlsFailed)
        // A send is complete when everything went out and the server closed.
        case (.sending, .closedByServer) where !stopped: report(.complete)
        // The pool was full: the commit never ran, and the upload removes itself.
        case (.storing, _): report(.localError)
        default: report(.broken)
        }
        phase = .ended
        return []
    }

    /// One chunk of an ASCII download; at the end of the file, the close that completes it.
    private mutating func convert(_ file: FileDescriptor, from offset: Int64, to end: Int64, _ ascii: inout ASCIIType.ToNetwork) -> Actions {
        let want = Int(min(Int64(DataConnectionSession.chunk), end - offset))
        var buffer = [UInt8](repeating: 0, count: want)
        let n = want > 0 ? buffer.withUnsafeMutableBytes { pread(file.fd, $0.baseAddress, want, off_t(offset)) } : 0
        guard n > 0 else {
            if n == 0 {
                phase = .sending
                return [.closeAfterFlush(lingering: true)]
            }
            phase = .ended
            report(.localError)
            return [.close]
        }
        let converted = ascii.convert(buffer[0..<n])
        moved += Int64(converted.count)
        phase = .converting(file, offset: offset + Int64(n), end: end, ascii)
        return [.write(converted)]
    }

    /// The upload's last held CR, then its fsync and rename on the blocking pool.
    private mutating func store(_ upload: Upload, ascii: ASCIIType.FromNetwork?) -> Actions {
        var ascii = ascii
        if let rest = ascii?.finish(), !rest.isEmpty, !rest.withUnsafeBytes(upload.write) { return fail(upload) }
        phase = .storing
        return [.offload({ .stored(upload.commit()) }, busy: [])]
    }

    private mutating func fail(_ upload: Upload) -> Actions {
        upload.abandon()
        phase = .ended
        report(.localError)
        return [.close]
    }

    /// Once: a send that did not complete moved an unknown part of what was queued (nil).
    private mutating func report(_ outcome: DataChannel.Outcome) {
        guard !reported, let channel else { return }
        reported = true
        channel.finish(outcome, bytes: sending && outcome != .complete ? nil : moved)
    }
}

extension Transfer {
    var isUpload: Bool { if case .receive = self { true } else { false } }
}
