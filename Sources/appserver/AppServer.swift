import ArgumentParser
import DNSService
import Dispatch
import FTPService
import Glibc
import HTTPService
import Logging
import ServerCore
import SMTPService

@main
struct AppServer: ParsableCommand {
    static let version = "0.3.0"
    static let configuration = CommandConfiguration(
        commandName: "appserver",
        abstract: "A small multi-protocol application server: HTTP static files, DNS, SMTP and FTP.",
        version: version,
        subcommands: [Serve.self, Check.self, Passwd.self],
        defaultSubcommand: Serve.self
    )

    /// Help and --version exit 0; any other error, a mistyped flag included, is one line on
    /// standard error and exit 1, like every startup error.
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            guard exitCode(for: error) == .success else { fail(message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)") }
            print(fullMessage(for: error))
            // The root's help lists the subcommands; the flags are serve's, the default one.
            if ["--help", "-h", "help"].contains(arguments.first ?? "") && arguments.count == 1 {
                print("\n" + Serve.helpMessage())
            }
        }
    }
}

/// Runs the services (what `appserver` does with no subcommand): a supervisor with a child
/// process per service (see `Supervisor`), or with --single-process all in this process.
/// A supervised child is this same command, run --single-process on sockets handed in.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the services (the default).")

    @OptionGroup var options: Options

    func run() throws {
        let config = orFail { try loadConfig(options.config) }
        var settings = orFail { try Settings(flags: options, file: config) }
        // Before any thread starts (a supervised child has them blocked until then).
        let singleProcess = settings.singleProcess
        Startup.catchSignals(singleProcess ? Startup.handledSignals : Supervisor.handledSignals)
        let level = settings.logLevel
        let output = orFail { try Startup.openLog(settings) }
        LoggingSystem.bootstrap { _ in LineLogHandler(level: level, output: output) }
        let logger = Logger(label: "appserver")
        signal(SIGPIPE, SIG_IGN)
        Startup.raiseDescriptorLimit()
        let notify = SystemdNotify.take(), supervisor = SupervisorSpawn.supervisor()
        var inherited = orFail { try SocketActivation.inherited() }
        if !inherited.isEmpty {
            (inherited, settings.services) = orFail { try Listening.identify(inherited, settings) }
        }
        if supervisor != nil, let failing = SocketActivation.environment(SupervisorSpawn.testExitVariable),
           settings.services.contains(failing) { Glibc.exit(3) }

        // Everything is loaded and checked first, then bound, and only then announced: a
        // fatal error never follows a "listening on" line.
        let registry = orFail {
            try ListenerRegistry(workers: singleProcess ? settings.workers : 1, limits: ConnectionLimits(maxConnections: settings.maxConnections))
        }
        // A supervisor's own process serves nothing, and counts nothing; nor does any with
        // the admin listener off, where nothing would read the counts.
        let observability = singleProcess && settings.adminListen != nil ? Observability(process: supervisor == nil ? "all" : settings.services.joined(separator: "_"), services: settings.services) : nil
        observability?.watch(output)
        let plan = orFail { try ServicePlan(settings: settings, registry: registry, logger: logger, observability: observability) }
        orFail { try Startup.checkUser(settings.user) }
        var notes = [config.map { "config file \($0.path)" } ?? "no config file (\(Serve.defaultConfig) not found); defaults and flags only"]
        var sockets = inherited, listening = Listening.lines(inherited)
        if inherited.isEmpty {
            (sockets, listening) = Listening.bind(settings, services: settings.services, on: ServicePlan.addresses(settings, notes: &notes))
        }
        for socket in sockets { plan.ports[socket.name]?.set(socket.address.port) }
        if supervisor == nil {
            // Before the privilege drop: a crash may have left files only root can remove.
            plan.cleanups.forEach { $0.run() }
            if let pidFile = settings.pidFile { orFail { try Startup.writePidFile(pidFile) } }
        }
        guard singleProcess else {
            // Each service's "listening on" lines once its first child serves.
            (notes + plan.summary).forEach { logger.notice("\($0)") }
            orFail { try Startup.dropPrivileges(to: settings.user, handing: plan.ownedFolders, group: plan.folderGroup,
                                                keeping: Supervisor.childCapabilities, logger: logger) }
            Supervisor(sockets: sockets, plan: plan, announcing: listening, arguments: Array(CommandLine.arguments.dropFirst()) + Listening.portsChosen(sockets, settings),
                       pidFile: settings.pidFile, systemd: notify, logger: logger, logFile: settings.logFile).run()
        }
        Listening.serve(sockets, plan: plan, registry: registry)
        orFail { try Startup.dropPrivileges(to: settings.user, handing: plan.ownedFolders, group: plan.folderGroup, logger: logger) }
        if let supervisor { Startup.follow(supervisor, serving: settings.services) }
        Startup.handleSignals(registry: registry, logger: logger, pidFile: supervisor == nil ? settings.pidFile : nil, reloads: plan.reloads,
                              logFile: settings.logFile)
        if supervisor == nil { (notes + plan.summary + listening.map(\.text)).forEach { logger.notice("\($0)") } }
        registry.start()
        plan.starts.forEach { $0() }
        let watching = observability.map { Admin.start(plan: plan, settings: settings, registry: registry, observability: $0, supervisor: supervisor) }
        if let notify { SystemdNotify.send("READY=1", to: notify) }
        // What reports and hears reports lives as long as the process.
        withExtendedLifetime(watching) { dispatchMain() }
    }

    static let defaultConfig = "conf/appserver.conf"
}

/// The config file named by --config, else the default one if it exists.
func loadConfig(_ named: String?) throws -> ConfigFile? {
    let path = named ?? Serve.defaultConfig
    guard let data = LocalFiles.read(path) else {
        if named == nil { return nil }
        throw Settings.Invalid(description: "cannot read config file \(path): \(errorText(errno))")
    }
    return try ConfigFile(path: path, text: String(decoding: data, as: UTF8.self),
                          knownKeys: Settings.configKeys, listKeys: Settings.listKeys)
}

/// Prints one line to standard error and exits non-zero: how every startup error ends.
func fail(_ message: String) -> Never {
    printError("appserver: \(message)")
    exit(1)
}

/// The value, or the error as that one line.
func orFail<T>(_ body: () throws -> T) -> T {
    do {
        return try body()
    } catch {
        fail("\(error)")
    }
}
