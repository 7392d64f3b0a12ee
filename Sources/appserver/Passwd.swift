import ArgumentParser
import FTPService
import Glibc
import ServerCore

/// `appserver passwd NAME`: hashes a password (from standard input, or a prompt that does
/// not echo) and writes `NAME:HASH` into the FTP users file, replacing NAME's old line.
struct Passwd: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Add or change an FTP user's password in the users file.")

    @Argument(help: "The user name.")
    var name: String

    // ArgumentParser shows the default itself.
    @Option(help: ArgumentHelp("The users file to update.", valueName: "file"))
    var ftpUsers = "conf/ftp-users"

    @Flag(help: "Print the line instead of writing it to the file.")
    var print = false

    func run() throws {
        guard !name.isEmpty, !name.contains(":"), !name.contains(where: \.isWhitespace) else {
            fail("a user name cannot be empty or hold ':' or spaces")
        }
        guard let password = readPassword(), !password.isEmpty else { fail("no password given") }
        guard let hash = PasswordFile.hash(password) else { fail("the system's crypt(3) could not hash the password") }
        let line = "\(name):\(hash)"
        if print {
            Swift.print(line)
            return
        }
        let existing = LocalFiles.read(ftpUsers).map { String(decoding: $0, as: UTF8.self) } ?? ""
        var lines = existing.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        if let index = lines.firstIndex(where: { $0.hasPrefix(name + ":") }) { lines[index] = line } else { lines.append(line) }
        // A new users file is not world-readable (an existing one keeps its mode): the
        // server reads it before dropping privileges.
        guard LocalFiles.write(Array((lines.joined(separator: "\n") + "\n").utf8), to: ftpUsers, mode: 0o600) else {
            fail("cannot write \(ftpUsers): \(errorText(errno))")
        }
        printError("appserver: \(name) written to \(ftpUsers)")
    }

    /// From a terminal: asked twice without echo. Otherwise: the first line of standard input.
    private func readPassword() -> String? {
        guard isatty(STDIN_FILENO) == 1 else { return readLine(strippingNewline: true) }
        var saved = termios()
        tcgetattr(STDIN_FILENO, &saved)
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet)
        defer { tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
        printError("Password for \(name): ", terminator: "")
        let first = readLine(strippingNewline: true)
        printError("\nAgain: ", terminator: "")
        let second = readLine(strippingNewline: true)
        printError("\n", terminator: "")
        guard first == second else { fail("the passwords do not match") }
        return first
    }
}
