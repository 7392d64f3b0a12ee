import Foundation
import Logging
import ServerCore
import SMTPService

/// The SMTP service in this process on 127.0.0.1 and a free port, storing into a temporary folder.
final class TestSMTPServer {
    let data: TemporaryFolder
    let registry: ListenerRegistry
    let port: UInt16

    init(maxMessageSize: Int = 10 * 1024 * 1024, maxConnectionsPerAddress: Int = 100, idleTimeout: Double = 300) throws {
        data = try TemporaryFolder("appserver-mail")
        let store = try MaildirStore(data: data.path, hostname: "mx.example.test")
        let policy = SMTPSession.Policy(hostname: "mx.example.test", domains: ["example.test"], maxMessageSize: maxMessageSize)
        var config = SMTPConfiguration(policy: policy, store: store, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
                                       maxConnectionsPerAddress: maxConnectionsPerAddress)
        config.idleTimeout = idleTimeout
        registry = try ListenerRegistry(workers: 2)
        port = try registry.addTCP(SocketAddress(ip: IPAddress("127.0.0.1")!, port: 0), service: config.service).port
        registry.start()
    }

    /// The messages in `user@example.test`'s new/ folder, oldest name first.
    func messages(_ user: String) -> [String] {
        let folder = data.path + "/mail/example.test/" + user + "/new"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        return names.compactMap { try? String(contentsOfFile: folder + "/" + $0, encoding: .utf8) }
    }

    /// Every file anywhere under the data folder's mail/ and spool/.
    var allFiles: [String] {
        let root = URL(fileURLWithPath: data.path)
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        return walker.compactMap { item in
            guard let url = item as? URL, (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { return nil }
            return url.path
        }
    }

    /// A raw SMTP conversation: sends `text` (after the greeting) and reads until the server closes.
    func converse(_ text: String) throws -> String {
        let client = try RawClient(port: port)
        _ = client.read(atLeast: 5)
        client.send(text)
        return String(decoding: client.readAll(), as: UTF8.self)
    }

    deinit { registry.shutdown(grace: 0) {} }
}
