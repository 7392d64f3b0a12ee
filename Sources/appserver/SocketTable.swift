import ServerCore

/// Every listening socket appserver opens, by the name it has in `LISTEN_FDNAMES` (and in
/// `FileDescriptorName=` of conf/appserver.socket): the service whose process serves it, its
/// transport, and the setting that gives its port (nil: that socket is off). A new port of a
/// service is one row here and its handler in `ServicePlan.handlers` under the same name.
struct SocketRow: Sendable {
    let name: String
    let service: String
    let datagrams: Bool
    let flag: String
    /// nil: the socket is off (a port that is opened only when its flag is given).
    let port: @Sendable (Settings) -> UInt16?

    static let all: [SocketRow] = [
        SocketRow(name: "http", service: "http", datagrams: false, flag: "--http-port") { $0.httpPort },
        SocketRow(name: "https", service: "https", datagrams: false, flag: "--https-port") { $0.httpsPort },
        SocketRow(name: "dns-tcp", service: "dns", datagrams: false, flag: "--dns-port") { $0.dnsPort },
        SocketRow(name: "dns-udp", service: "dns", datagrams: true, flag: "--dns-port") { $0.dnsPort },
        SocketRow(name: "dot", service: "dns", datagrams: false, flag: "--dot-port") { $0.dotPort },
        SocketRow(name: "smtp", service: "smtp", datagrams: false, flag: "--smtp-port") { $0.smtpPort },
        SocketRow(name: "smtps", service: "smtp", datagrams: false, flag: "--smtps-port") { $0.smtpsPort },
        SocketRow(name: "ftp", service: "ftp", datagrams: false, flag: "--ftp-port") { $0.ftpPort },
        SocketRow(name: "ftps", service: "ftp", datagrams: false, flag: "--ftps-port") { $0.ftpsPort },
        // On its own address (`--admin-listen`), not on every --listen one.
        SocketRow(name: "admin", service: "admin", datagrams: false, flag: "--admin-listen") { $0.adminListen?.port },
    ]

    /// Every process a supervisor may run, in the order it starts them.
    static let processes = Settings.allServices + ["admin"]

    static func named(_ name: String) -> SocketRow? { all.first { $0.name == name } }

    /// The rows of `services` that `settings` turn on, grouped by port setting: the rows of
    /// a group share one port number (DNS's TCP and UDP).
    static func ports(of services: [String], _ settings: Settings) -> [[SocketRow]] {
        var groups: [[SocketRow]] = []
        for row in all where services.contains(row.service) && row.port(settings) != nil {
            if let index = groups.firstIndex(where: { $0.first?.flag == row.flag }) {
                groups[index].append(row)
            } else {
                groups.append([row])
            }
        }
        return groups
    }

    /// How "listening on" lines name a group: its socket's name, or "dns, tcp and udp".
    static func label(_ group: [SocketRow]) -> String {
        guard group.count > 1, let first = group.first else { return group.first?.name ?? "" }
        return first.service + ", " + group.map { $0.datagrams ? "udp" : "tcp" }.joined(separator: " and ")
    }
}
