import AdminService
import FTPService
import ServerCore

/// What the admin listener answers: `/healthz` (this process serves), `/readyz` (every
/// configured service bound and loaded), `/metrics` (Prometheus text), `/` the console,
/// `/api/state` its data, `/mail?id=` one mail, and the console's script and style.
/// With `--admin-user`, every request needs its basic-auth credentials.
enum AdminRoutes {
    static func answer(_ request: AdminRequest, hub: AdminHub) -> AdminResponse {
        if let user = hub.user, !authorized(request, user) {
            return AdminResponse(status: 401, contentType: "text/plain; charset=utf-8", body: Array("authorization required\n".utf8),
                                 headers: [("WWW-Authenticate", "Basic realm=\"appserver admin\", charset=\"UTF-8\"")])
        }
        switch request.path {
        case "/healthz":
            return .plain(200, "ok")
        case "/readyz":
            return hub.ready ? .plain(200, "ready") : .plain(503, "not ready: " + notReady(hub).joined(separator: ", "))
        case "/metrics":
            return AdminResponse(contentType: "text/plain; version=0.0.4; charset=utf-8", text: hub.metrics())
        case "/", "/index.html":
            return AdminResponse(contentType: "text/html; charset=utf-8", text: ConsolePage.html(hub.state()))
        case "/api/state":
            return AdminResponse(contentType: "application/json", text: ConsolePage.json(hub.state()))
        case "/console.js":
            return AdminResponse(contentType: "text/javascript; charset=utf-8", text: ConsoleAssets.script)
        case "/console.css":
            return AdminResponse(contentType: "text/css; charset=utf-8", text: ConsoleAssets.style)
        case "/mail":
            guard let id = request.query("id"), let message = MailFolder.message(id, in: hub.data) else { return .plain(404, "no such mail") }
            return AdminResponse(contentType: "text/html; charset=utf-8", text: ConsolePage.mail(message, id: id))
        default:
            return .plain(404, "not found")
        }
    }

    private static func notReady(_ hub: AdminHub) -> [String] {
        let reports = hub.fresh()
        return hub.services.filter { reports[$0]?.report.ready != true }
    }

    /// `Authorization: Basic base64(name:password)`, checked with the FTP users file's
    /// checker (crypt(3), constant-time; an unknown name costs a hash as well).
    private static func authorized(_ request: AdminRequest, _ user: (name: String, check: PasswordFile)) -> Bool {
        guard let value = request.head.header("authorization"), value.lowercased().hasPrefix("basic ") else { return false }
        let decoded = String(decoding: Base64.decodeSkipping(value.utf8.dropFirst(6)), as: UTF8.self)
        guard let colon = decoded.firstIndex(of: ":") else { return false }
        return user.check.verify(user: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...]))
    }
}
