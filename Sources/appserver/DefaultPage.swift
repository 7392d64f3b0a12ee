import ServerCore

/// The shipped page shows the ports this run listens on: in `www/index.html`, the text
/// between `<!--#port SERVICE-->` and `<!--/port-->` (the default port, as a file read
/// without the server shows it) is served as that service's port, or "off". A site without
/// the marks is served as it is.
enum DefaultPage {
    static let path = "index.html"

    /// `ports`: each service's, known once bound.
    static func pages(_ settings: Settings, ports: [String: BoundPort]) -> [String: @Sendable () -> [UInt8]] {
        guard let bytes = LocalFiles.read(settings.www + "/" + path, limit: 1024 * 1024),
              let template = String(validating: bytes, as: UTF8.self), template.contains("<!--#port ") else { return [:] }
        let running = settings.configuredServices
        return [path: { Array(fill(template) { service in
            guard running.contains(service), let port = ports[service] else { return "off" }
            return "\(port.port)"
        }.utf8) }]
    }

    /// `template` with each mark's text replaced by `port(service)`.
    static func fill(_ template: String, port: (String) -> String) -> String {
        var out = "", rest = Substring(template)
        while let open = rest.firstRange(of: "<!--#port "), let name = rest[open.upperBound...].firstRange(of: "-->"),
              let close = rest[name.upperBound...].firstRange(of: "<!--/port-->") {
            out += rest[..<name.upperBound]
            out += port(String(rest[open.upperBound..<name.lowerBound]))
            out += rest[close]
            rest = rest[close.upperBound...]
        }
        return out + rest
    }
}
