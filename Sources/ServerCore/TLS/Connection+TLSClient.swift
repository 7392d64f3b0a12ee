/// Client-mode TLS on a connection appserver made (`ListenerRegistry.connect` with a
/// service's `clientTLS`): once the TCP connect completes, the handshake runs on the
/// worker's loop like a server's, within the handshake deadline, and the handler hears
/// `connectionOpened` only after it, with the peer verified. A peer that fails
/// verification is closed with `.tlsFailed` before the handler sees a byte.
extension Connection {
    /// Set while connecting: the peer to handshake with once connected.
    func connectTLS(_ target: TLSClientTarget) {
        let layer = TLSLayer(starting: nil, opensHandler: true, plaintextReply: [])
        layer.client = target
        tlsLayer = layer
    }

    func startClientTLS(_ layer: TLSLayer, _ target: TLSClientTarget) {
        guard let stream = TLSStream(client: target, fd: fd) else { return worker.close(self, reason: .tlsFailed) }
        layer.client = nil
        layer.stream = stream
        // The client speaks first: there is no first byte of the peer's to look at.
        layer.checkedFirstByte = true
        idleDeadline = worker.now() + worker.handshakeTimeout
        readableTLS(layer, into: worker.readBuffer)
    }
}
