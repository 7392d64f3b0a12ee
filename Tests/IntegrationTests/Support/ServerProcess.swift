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

    init(_ arguments: [String], directory: String? = nil) throws {
        guard let binary = ServerProcess.binary else { throw CocoaError(.fileNoSuchFile) }
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
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

    var stdout: String { String(decoding: output.get(), as: UTF8.self) }
    var stderr: String { String(decoding: errors.get(), as: UTF8.self) }

    /// The port of the first "listening on 127.0.0.1:PORT" line, once it appears.
    func listeningPort(timeout: Double = 20) -> UInt16? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline && process.isRunning {
            if let range = stdout.range(of: #"listening on 127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                return UInt16(stdout[range].split(separator: ":").last ?? "")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return nil
    }

    /// Whether `text` appears in the output within `timeout` (access lines are written in batches).
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

    /// Peak resident memory of the server so far, in KiB (VmHWM).
    var peakRSSKiB: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
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
