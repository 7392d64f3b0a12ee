import HTTPService
import ServerCore

/// One admin connection, as `SessionDriver` runs it: HTTPService's parser reads the
/// requests; each is answered off the worker's queue (the routes read files and check
/// passwords), one at a time and in order. Read-only: GET and HEAD, nothing else.
struct AdminSession: ConnectionSession {
    typealias Completion = AdminResponse

    private let config: AdminConfiguration
    private let client: ConnectionID
    private var parser: HTTPRequestParser
    private var pending: (keepAlive: Bool, head: Bool, line: String)?
    private var closing = false

    init(_ config: AdminConfiguration, client: ConnectionID) {
        self.config = config
        self.client = client
        parser = HTTPRequestParser(limits: config.limits)
    }

    var bufferedBytes: Int { parser.bufferedBytes }

    mutating func start() -> Actions { [.idleTimeout(config.idleTimeout)] }

    mutating func receive(_ bytes: UnsafeRawBufferPointer) { parser.append(bytes) }

    mutating func step() -> Actions? {
        guard !closing else { return nil }
        switch parser.next() {
        case .needMore:
            return nil
        case .error(let status, _):
            closing = true
            let response = AdminResponse.plain(400, "bad request (\(status.rawValue))")
            return [.write(response.bytes(keepAlive: false, head: false)), .log(.access, "\"-\" 400 \(response.body.count)"),
                    .closeAfterFlush(lingering: true)]
        case .request(let request):
            let line = "\"\(LogEscape.escaped(request.method)) \(LogEscape.escaped(request.target))\""
            let head = request.method == "HEAD"
            pending = (request.keepAlive, head, line)
            guard request.method == "GET" || head else {
                return finish(AdminResponse(status: 405, contentType: "text/plain; charset=utf-8", body: Array("read-only\n".utf8),
                                            headers: [("Allow", "GET, HEAD")]))
            }
            let routes = config.routes, client = client
            return [.offload({ routes(AdminRequest(head: request, client: client)) }, busy: AdminResponse.plain(503, "busy").bytes(keepAlive: false, head: false))]
        }
    }

    mutating func complete(_ response: AdminResponse) -> Actions { finish(response) }

    private mutating func finish(_ response: AdminResponse) -> Actions {
        let (keepAlive, head, line) = pending ?? (false, false, "\"-\"")
        pending = nil
        var actions: Actions = [.write(response.bytes(keepAlive: keepAlive, head: head)),
                                .log(.access, "\(line) \(response.status) \(head ? 0 : response.body.count)")]
        if keepAlive {
            actions.append(.idleTimeout(config.idleTimeout))
        } else {
            closing = true
            actions.append(.closeAfterFlush(lingering: true))
        }
        return actions
    }
}
