import Foundation
import HTTPService
import Logging
import ServerCore

/// The HTTP service in this process on 127.0.0.1 and a free port, serving a temporary folder.
final class TestHTTPServer {
    let base: TemporaryFolder
    let registry: ListenerRegistry
    let port: UInt16
    /// What the service logged.
    let log: CapturedLog

    /// The served folder is `base/www`, so tests can put files just outside it.
    var www: String { base.path + "/www" }
    var url: String { "http://127.0.0.1:\(port)" }

    init(limits: ConnectionLimits = ConnectionLimits(), configure: (inout HTTPConfiguration) -> Void = { _ in }) throws {
        let log = CapturedLog()
        self.log = log
        base = try TemporaryFolder("appserver-www")
        try base.write("www/index.html", "<h1>hello</h1>\n")
        var config = HTTPConfiguration(files: try StaticFiles(root: base.path + "/www"),
                                       logger: log.logger)
        configure(&config)
        registry = try ListenerRegistry(workers: 2, limits: limits)
        let bound = try registry.addTCP(SocketAddress(ip: IPAddress("127.0.0.1")!, port: 0), service: config.service)
        port = bound.port
        registry.start()
    }

    func write(_ relative: String, _ bytes: [UInt8]) throws { try base.write("www/" + relative, bytes) }
    func write(_ relative: String, _ text: String) throws { try base.write("www/" + relative, text) }

    /// One raw request on a new connection; every response that came back before the close.
    func exchange(_ request: String) throws -> [RawResponse] {
        let client = try RawClient(port: port)
        client.send(request)
        return RawResponse.parseAll(client.readAll())
    }

    deinit { registry.shutdown(grace: 0) {} }
}
