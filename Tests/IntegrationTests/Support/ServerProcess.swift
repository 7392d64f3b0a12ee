import Foundation

/// The built `appserver` command, run as a child process the way a user runs it.
final class ServerProcess {
    static var binary: String? {
        let dir = Bundle.main.executableURL?.deletingLastPathComponent().path
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        for candidate in [dir + "/appserver", dir + "/../appserver"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return nil
    }

    let process = Process()
    private let output = LockedData()
    private let errors = LockedData()

    /// `environment` is added to the tests' own; `binary` runs instead of the built one.
    init(_ arguments: [String], directory: String? = nil, environment: [String: String] = [:], binary: String? = nil) throws {
        guard let binary = binary ?? ServerProcess.binary else { throw CocoaError(.fileNoSuchFile) }
        process.executableURL = URL(fileURLWithPath: binary)
        // Another program (NSD under perl) takes its arguments as they are.
        let isAppserver = URL(fileURLWithPath: binary).lastPathComponent == "appserver"
        process.arguments = isAppserver ? ServerProcess.quietAdmin(arguments) : arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        for (pipe, sink) in [(out, output), (err, errors)] {
            Thread.detachNewThread {
                var collected = Data()
                while true {
                    let chunk = pipe.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    collected.append(chunk)
                    sink.set(collected)
                }
            }
        }
    }

    /// A server run by a test that does not ask for the admin listener gets none: its
    /// default port (9180) would be shared by every test running at once.
    static func quietAdmin(_ arguments: [String]) -> [String] {
        let subcommands = ["check", "passwd", "help", "--help", "-h", "--version"]
        guard !arguments.contains(where: { $0 == "--admin-listen" || subcommands.contains($0) }) else { return arguments }
        return arguments + ["--admin-listen", "off"]
    }

    var stdout: String { String(decoding: output.get(), as: UTF8.self) }
    var stderr: String { String(decoding: errors.get(), as: UTF8.self) }

    /// The port of the first "listening on 127.0.0.1:PORT" line (of `label`'s port if given:
    /// "smtp", "dns, tcp and udp"), once it appears.
    func listeningPort(_ label: String? = nil, timeout: Double = 20, address: String = "127.0.0.1") -> UInt16? {
        let deadline = Date().addingTimeInterval(timeout)
        // A label is a whole name ("http" is not "https"), or the start of a group's ("dns, tcp and udp").
        let name = label.map { NSRegularExpression.escapedPattern(for: $0) + "[),]" } ?? ""
        guard let regex = try? Regex("listening on " + NSRegularExpression.escapedPattern(for: address) + #":(\d+) \("# + name)
        else { return nil }
        while Date() < deadline && process.isRunning {
            if let match = stdout.firstMatch(of: regex), let port = match.output[1].substring {
                return UInt16(port)
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return nil
    }

    /// The pids of `service`'s supervised children so far ("http child PID started"), oldest first.
    func childPIDs(_ service: String) -> [pid_t] {
        guard let regex = try? Regex("\(service) child (\\d+) started") else { return [] }
        return stdout.matches(of: regex).compactMap { $0.output[1].substring.flatMap { pid_t($0) } }
    }

    /// The newest child of `service`, waiting for its "started" line (and, with `after`, for
    /// one newer than those pids).
    func child(_ service: String, after older: [pid_t] = [], timeout: Double = 10) -> pid_t? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let pid = childPIDs(service).last, !older.contains(pid) { return pid }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return nil
    }

    /// Whether `text` appears in the output within `timeout` (access lines are written in batches).
    /// Waits for standard output to match `regex` (children log in any order).
    func logged(matching regex: Regex<AnyRegexOutput>, timeout: Double = 5) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while stdout.firstMatch(of: regex) == nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return stdout.firstMatch(of: regex) != nil
    }

    func logged(_ text: String, timeout: Double = 5) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !stdout.contains(text) && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return stdout.contains(text)
    }

    /// Waits for the process to end; nil if it is still running after `timeout`.
    func exitStatus(timeout: Double = 20) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { return nil }
        Thread.sleep(forTimeInterval: 0.1)
        return process.terminationStatus
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Peak resident memory of process `pid` (the server's own by default) so far, in KiB (VmHWM).
    func peakRSSKiB(_ pid: pid_t? = nil) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid ?? process.processIdentifier)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return nil }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}
