import ArgumentParser
import Logging
import ServerCore

/// `appserver check`, as `nginx -t` and `nsd-checkzone`: loads the config, zones, users
/// file and folders exactly as `serve` would, says what would be served, binds nothing.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the configuration, zones and users file; print what would be served; bind nothing.")

    @OptionGroup var options: Options

    func run() throws {
        let config = orFail { try loadConfig(options.config) }
        let settings = orFail { try Settings(flags: options, file: config) }
        let registry = orFail { try ListenerRegistry(workers: 1) }
        let logger = Logger(label: "appserver-check") { _ in SwiftLogNoOpLogHandler() }
        let plan = orFail { try ServicePlan(settings: settings, registry: registry, logger: logger, checking: true) }
        orFail { try Startup.checkUser(settings.user) }
        print(config.map { "config file \($0.path)" } ?? "no config file (\(Serve.defaultConfig) not found); defaults and flags only")
        plan.summary.forEach { print($0) }
        for group in SocketRow.ports(of: settings.services, settings) {
            guard let port = group.first?.port(settings) else { continue }
            let ips = group.first?.service == "admin" ? [settings.adminListen?.ip].compactMap { $0 } : settings.listen
            let addresses = ips.map { SocketAddress(ip: $0, port: port).description }
            print("would listen on \(addresses.joined(separator: ", ")) (\(SocketRow.label(group)))")
        }
        print("ok")
    }
}
