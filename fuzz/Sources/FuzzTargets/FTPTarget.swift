import FTPService
import Glibc
import ServerCore

/// The FTP control conversation on a temporary root, as the control session drives it:
/// lines through FTPCommandInput (the same lines however the input is cut) into the
/// session (PORT, EPRT and EPSV included), its file requests performed at once, its other
/// actions done in memory, AUTH TLS dropping the input behind it as the control session
/// does. Active-mode targets are only ever the peer itself above port 1023 (no FTP bounce),
/// the working directory stays a normal path, replies stay line-framed, under `--ftp-tls
/// required` nobody but anonymous logs in or transfers in clear, and no run leaves a
/// descriptor open.
enum FTPTarget {
    static let target = FuzzTarget(name: "ftp", summary: "FTP session on a temporary root, with PORT/EPRT/EPSV and AUTH TLS") {
        let folder = Scratch.makeFolder("ftp")
        let root = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        let fs: VirtualFS
        do {
            fs = try VirtualFS(root: folder)
        } catch {
            fatalError("\(error)")
        }
        // Ours and the VirtualFS's: what else is open in the root after a run was left open by it.
        let held = descriptors(under: folder)
        return { data in
            Scratch.empty(root)
            populate(folder)
            run([UInt8](data), fs)
            let open = descriptors(under: folder)
            require(open.count == held.count, "a run left descriptors open: \(open)")
        }
    }

    static let peers = [IPAddress("192.0.2.7")!, IPAddress("2001:db8::7")!, IPAddress("::ffff:192.0.2.7")!]

    /// The same tree before every input: files, a folder, and symlinks that stay inside,
    /// leave the root, and loop.
    static func populate(_ folder: String) {
        Scratch.write("Hello\nworld\r\n", to: folder + "/readme.txt")
        mkdir(folder + "/pub", 0o755)
        mkdir(folder + "/pub/empty", 0o755)
        Scratch.write(String(repeating: "0123456789abcdef\n", count: 20), to: folder + "/pub/data.txt")
        symlink("pub", folder + "/inside")
        symlink("/etc", folder + "/outside")
        symlink("loop", folder + "/loop")
    }

    static func run(_ input: [UInt8], _ fs: VirtualFS) {
        let cuts = Pieces.cuts(input)
        require(commandLines(input, cuts) == commandLines(input, Pieces.whole(input.count)), "command lines differ when cut at \(cuts)")
        let hash = Pieces.fnv1a(input)
        let peer = peers[Int(hash % UInt64(peers.count))]
        let policy = [FTPSession.TLSPolicy.off, .optional, .required][Int((hash >> 8) % 3)]
        var session = FTPSession(anonymousAllowed: hash & 0x10 != 0, peer: peer, tls: policy, implicitTLS: hash & 0x20 != 0 && policy != .off)
        var lines = FTPCommandInput()
        var dataChannel = false
        for piece in cuts {
            input[piece].withUnsafeBytes { lines.receive($0) }
            while let line = lines.next() {
                guard case .line(let bytes) = line else { continue }
                var actions = session.handle(bytes)
                while !actions.isEmpty {
                    switch actions.removeFirst() {
                    case .reply(let reply):
                        check(reply)
                        require(policy != .required || session.controlProtected || session.user == nil || session.user == "anonymous",
                                "\(session.user ?? "") logged in without TLS under required TLS")
                        let segments = session.cwd.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
                        require(session.cwd == "/" || !segments.contains { $0.isEmpty || $0 == "." || $0 == ".." },
                                "the working directory \(session.cwd) is not a normal path")
                    case .checkPassword(let user, let password):
                        actions += session.passwordChecked(user: user, success: user == "alice" && password == "secret")
                    case .files(let request):
                        actions += session.finished(request.perform(on: fs, now: 1_764_000_000))
                    case .enterPassive:
                        dataChannel = true
                    case .setActive(let target):
                        require(sameHost(target.ip, peer) && target.port >= 1024, "PORT/EPRT to \(target) for peer \(peer)")
                        dataChannel = true
                    case .startTLS:
                        require(policy != .off && session.controlProtected, "AUTH TLS started with TLS \(policy)")
                        // What came behind AUTH TLS was plaintext: the control session drops it.
                        lines = FTPCommandInput()
                    case .transfer(let transfer, _):
                        require(policy != .required || session.protectsData || session.user == "anonymous", "a clear transfer under required TLS")
                        // During a transfer the handler looks ahead for an ABOR.
                        let aborted = lines.takeAbort()
                        perform(transfer, dataChannel: dataChannel && !aborted)
                        dataChannel = false
                    case .abort:
                        dataChannel = false
                    case .close:
                        return
                    }
                }
            }
        }
    }

    static func commandLines(_ input: [UInt8], _ pieces: [Range<Int>]) -> [FTPCommandInput.Line] {
        var lines = FTPCommandInput()
        var taken: [FTPCommandInput.Line] = []
        for piece in pieces {
            input[piece].withUnsafeBytes { lines.receive($0) }
            while let line = lines.next() { taken.append(line) }
        }
        return taken
    }

    /// The transfer, done at once: a few bytes read or written, the upload kept only when
    /// there was a data connection to receive it on (as the handler does).
    static func perform(_ transfer: Transfer, dataChannel: Bool) {
        switch transfer {
        case .send(let file, let offset, let count, _):
            require(offset >= 0 && count >= 0, "RETR of \(count) bytes from \(offset)")
            var buffer = [UInt8](repeating: 0, count: 64)
            _ = buffer.withUnsafeMutableBytes { pread(file.fd, $0.baseAddress, $0.count, off_t(offset)) }
        case .listing:
            break
        case .receive(let upload, _):
            guard dataChannel else { return upload.abandon() }
            let wrote = Array("uploaded\n".utf8).withUnsafeBytes { upload.write($0) }
            require(wrote, "an upload could not be written")
            _ = upload.commit()
        }
    }

    /// Every LF in a reply ends a line with CRLF (a name cannot add lines to a reply).
    static func check(_ reply: FTPReply) {
        let bytes = reply.bytes
        require(bytes.count >= 6 && bytes.suffix(2) == [0x0D, 0x0A], "reply \(bytes) does not end in CRLF")
        for index in bytes.indices where bytes[index] == 0x0A {
            require(index > 0 && bytes[index - 1] == 0x0D, "bare LF in reply \(reply)")
        }
    }

    static func sameHost(_ a: IPAddress, _ b: IPAddress) -> Bool {
        func v4(_ ip: IPAddress) -> [UInt8] {
            let bytes = ip.bytes
            let mapped = bytes.count == 16 && bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
            return mapped ? Array(bytes[12...]) : bytes
        }
        return v4(a) == v4(b)
    }

    /// The open descriptors that lead to `folder` or inside it (libFuzzer opens others as it goes).
    static func descriptors(under folder: String) -> [String] {
        guard let directory = opendir("/proc/self/fd") else { return [] }
        defer { closedir(directory) }
        var found: [String] = []
        while let item = readdir(directory) {
            let name = LocalFiles.name(of: item)
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = readlink("/proc/self/fd/" + name, &buffer, buffer.count)
            guard n > 0 else { continue }
            let target = String(decoding: buffer.prefix(n), as: UTF8.self)
            if target == folder || target.hasPrefix(folder + "/") { found.append("\(name) \(target)") }
        }
        return found
    }
}
