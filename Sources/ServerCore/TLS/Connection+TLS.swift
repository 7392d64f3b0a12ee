import CSystem
import Glibc

/// TLS on the worker's loop, as nginx drives OpenSSL: SSL_do_handshake, SSL_read and
/// SSL_write on the non-blocking socket until they want it readable or writable, and epoll
/// armed for what they want.
extension Connection {
    public var tls: TLSInfo? {
        guard let stream = tlsLayer?.stream, stream.established else { return nil }
        return stream.info
    }

    /// Once the output queued so far has gone (in plaintext), the connection switches to
    /// TLS with `context`: nothing more is read from the socket until the session starts,
    /// so no plaintext sent after the command ever reaches the handler. What the handler
    /// already holds, it must drop itself (Postfix's CVE-2011-0411). With nothing queued,
    /// the session starts at once, and what is written after goes encrypted (a session that
    /// chooses its own context for TLS from the first byte: FTP's data connections, FTPS).
    public func startTLS(_ context: TLSServerContext) {
        assertOnQueue(worker.queue)
        guard phase == .open, tlsLayer == nil else { return }
        let layer = TLSLayer(starting: context, opensHandler: false, plaintextReply: [])
        tlsLayer = layer
        if output.isEmpty { return beginSession(layer) }
        updateInterest()
    }

    /// TLS from the first byte: the handler hears `connectionOpened` after the handshake.
    func startImplicitTLS(_ context: TLSServerContext, plaintextReply: [UInt8]) {
        let layer = TLSLayer(starting: context, opensHandler: true, plaintextReply: plaintextReply)
        tlsLayer = layer
        beginSession(layer)
    }

    /// The session starts; its handshake has the handshake deadline.
    private func beginSession(_ layer: TLSLayer) {
        guard let context = layer.waiting, let stream = TLSStream(context: context, fd: fd) else {
            return worker.close(self, reason: .tlsFailed)
        }
        layer.waiting = nil
        layer.stream = stream
        idleDeadline = worker.now() + worker.handshakeTimeout
        updateInterest()
    }

    func readableTLS(_ layer: TLSLayer, into buffer: UnsafeMutableRawBufferPointer) {
        // Waiting to start: the plaintext queued before STARTTLS is still going out.
        guard let stream = layer.stream else { return }
        if !stream.established {
            guard handshake(layer, stream) else { return }
        }
        if layer.writeWantsRead {
            layer.writeWantsRead = false
            flush()
        }
        // A few records per turn; the rest waits in the socket (epoll says so again) or in
        // OpenSSL (`tlsInterest` sees it pending and comes back).
        for _ in 0..<4 {
            guard phase == .open || phase == .closingAfterFlush, !readPaused,
                  pendingOutputBytes < Connection.readingOutputLimit else { break }
            switch stream.read(into: buffer) {
            case .done(let n):
                bytesIn += n
                layer.readWantsInput = false
                // Input after the last answer is read and dropped, as on a plaintext socket.
                guard phase == .open, let handler else { continue }
                handler.connection(self, received: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                flush()
            case .wantRead:
                layer.readWantsWrite = false
                layer.readWantsInput = true
                return updateInterest()
            case .wantWrite:
                layer.readWantsWrite = true
                return updateInterest()
            case .closed:
                peerClosed = true
                updateInterest()
                if phase == .open, let handler { handler.connectionReceivedEOF(self) }
                return flush()
            case .failed:
                return worker.close(self, reason: .peerReset)
            }
        }
        updateInterest()
    }

    /// Drives the handshake; true once it is done and the connection still open.
    private func handshake(_ layer: TLSLayer, _ stream: TLSStream) -> Bool {
        if !layer.checkedFirstByte {
            var byte: UInt8 = 0
            let n = recv(fd, &byte, 1, Int32(MSG_PEEK))
            if n < 0 && (errno == EAGAIN || errno == EINTR) { return false }
            guard n == 1 else {
                worker.close(self, reason: .tlsFailed)
                return false
            }
            layer.checkedFirstByte = true
            // 22 begins a TLS handshake record; a capital begins a plaintext request.
            guard byte == 22 else {
                if (0x41...0x5A).contains(byte) && !layer.plaintextReply.isEmpty {
                    // Answered as a plaintext connection, lingering so that the peer reads it.
                    observer?.handshake(succeeded: false)
                    tlsLayer = nil
                    write(layer.plaintextReply)
                    closeAfterFlush(lingering: true)
                    flush()
                } else {
                    worker.close(self, reason: .tlsFailed)
                }
                return false
            }
        }
        switch stream.handshake() {
        case .done:
            observer?.handshake(succeeded: true)
            layer.readWantsWrite = false
            layer.readWantsInput = false
            idleDeadline = idleDuration == 0 ? 0 : worker.now() + idleDuration
            if layer.opensHandler {
                layer.opensHandler = false
                opened()
            } else {
                flush()
            }
            return phase == .open
        case .wantRead:
            layer.readWantsWrite = false
            layer.readWantsInput = true
            updateInterest()
        case .wantWrite:
            layer.readWantsWrite = true
            updateInterest()
        case .closed, .failed:
            worker.close(self, reason: .tlsFailed)
        }
        return false
    }

    /// Sends what OpenSSL takes: bytes by SSL_write; files by SSL_sendfile under kernel TLS,
    /// else read a chunk at a time and SSL_write it (a chunk is kept until all of it is taken).
    func sendQueuedTLS(_ layer: TLSLayer) -> Bool {
        guard let stream = layer.stream else {
            // STARTTLS: what was queued before it goes in plaintext, then the session starts.
            guard sendQueuedPlain() else { return false }
            beginSession(layer)
            return phase == .open
        }
        guard stream.established else { return output.isEmpty }
        defer { if output.isEmpty { output = [] } }
        var budget = Connection.sendBudget
        while let first = output.first {
            if budget <= 0 { return waitForSocket() }
            let progress: TLSStream.Progress
            switch first {
            case .bytes(let bytes, let sent):
                progress = bytes.withUnsafeBytes { stream.write($0.baseAddress! + sent, count: $0.count - sent) }
                if case .done(let n) = progress {
                    if sent + n == bytes.count { output.removeFirst() } else { output[0] = .bytes(bytes, sent: sent + n) }
                }
            case .file(let file, let offset, let remaining):
                if stream.kernelSend {
                    progress = stream.sendfile(file.fd, offset: offset, count: Int(min(remaining, Connection.sendfileChunk)))
                    if case .done(let n) = progress { advance(file, offset, remaining, by: Int64(n)) }
                } else {
                    if layer.chunk.isEmpty {
                        let size = Int(min(remaining, Int64(TLSLayer.fileChunk)))
                        layer.chunk = [UInt8](repeating: 0, count: size)
                        layer.chunkSent = 0
                        let n = layer.chunk.withUnsafeMutableBytes { pread(file.fd, $0.baseAddress, size, off_t(offset)) }
                        // A file that shrank can no longer meet the promised length.
                        guard n == size else {
                            worker.close(self, reason: .closedByServer)
                            return false
                        }
                    }
                    progress = layer.chunk.withUnsafeBytes { stream.write($0.baseAddress! + layer.chunkSent, count: $0.count - layer.chunkSent) }
                    if case .done(let n) = progress {
                        layer.chunkSent += n
                        if layer.chunkSent == layer.chunk.count {
                            advance(file, offset, remaining, by: Int64(layer.chunk.count))
                            layer.chunk = []
                        }
                    }
                }
            }
            switch progress {
            case .done(let n):
                pendingOutputBytes -= n
                bytesOut += n
                budget -= n
                if blockedOnSend { writeDeadline = worker.now() + worker.writeTimeout }
            case .wantWrite:
                return waitForSocket()
            case .wantRead:
                if !layer.writeWantsRead { writeDeadline = worker.now() + worker.writeTimeout }
                layer.writeWantsRead = true
                updateInterest()
                return false
            case .closed, .failed:
                worker.close(self, reason: .peerReset)
                return false
            }
        }
        layer.writeWantsRead = false
        sentAll()
        return true
    }

    private func advance(_ file: FileDescriptor, _ offset: Int64, _ remaining: Int64, by n: Int64) {
        if n == remaining { output.removeFirst() } else { output[0] = .file(file, offset: offset + n, remaining: remaining - n) }
    }

    /// The epoll interest TLS adds to `want`: none for input while STARTTLS waits, the other
    /// direction when OpenSSL wants it; and a read soon when OpenSSL holds input.
    func tlsInterest(_ want: UInt32, _ layer: TLSLayer) -> UInt32 {
        var want = want
        let input = UInt32(CSYSTEM_EPOLLIN | CSYSTEM_EPOLLRDHUP)
        if layer.waiting != nil { want &= ~input }
        // A handshake reads however much output waits behind it (an FTP transfer queued first).
        if layer.stream?.established == false && !peerClosed { want |= input }
        if layer.readWantsWrite { want |= UInt32(CSYSTEM_EPOLLOUT) }
        if layer.writeWantsRead { want |= input }
        if want & input != 0, !layer.readScheduled, !layer.readWantsInput, layer.stream?.pending == true {
            layer.readScheduled = true
            worker.queue.async { [self] in
                layer.readScheduled = false
                guard phase == .open, tlsLayer === layer else { return }
                readable(into: worker.readBuffer)
            }
        }
        return want
    }
}
