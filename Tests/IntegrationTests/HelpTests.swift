import Foundation
import Testing

/// `appserver --help` and the README's table of flags say the same: every flag in both,
/// each with the same default (the help's `(default: ...)` up to a `;`, the README's
/// default column without its backticks).
@Suite(.enabled(if: ServerProcess.binary != nil, "the appserver binary was not found beside the tests"))
struct HelpTests {
    static let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md").standardized

    /// Flag → default, from the help's option entries (wrapped lines joined).
    static func helpDefaults(_ help: String) -> [String: String] {
        var entries: [String] = []
        for line in help.split(separator: "\n") {
            if line.hasPrefix("  --") {
                entries.append(String(line.dropFirst(2)))
            } else if line.hasPrefix("      "), let last = entries.popLast() {
                entries.append(last + " " + line.trimmingCharacters(in: .whitespaces))
            }
        }
        var defaults: [String: String] = [:]
        for entry in entries {
            let flag = String(entry.prefix { $0 != " " })
            guard !["--help", "--version"].contains(flag) else { continue }
            defaults[flag] = defaultText(entry) ?? "(none shown)"
        }
        return defaults
    }

    /// What follows `(default: ` up to its closing parenthesis, cut at the first `;`.
    static func defaultText(_ entry: String) -> String? {
        guard let start = entry.range(of: "(default: ")?.upperBound else { return nil }
        var depth = 1, text = ""
        for character in entry[start...] {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if depth == 0 { break }
            text.append(character)
        }
        return String(text.prefix { $0 != ";" })
    }

    /// Flag → default, from the README's table rows.
    static func readmeDefaults(_ readme: String) -> [String: String] {
        var defaults: [String: String] = [:]
        for line in readme.split(separator: "\n") where line.hasPrefix("| `--") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count > 3 else { continue }
            let flag = String(cells[1].dropFirst().prefix { $0 != " " && $0 != "`" })
            defaults[flag] = cells[3].replacingOccurrences(of: "`", with: "")
        }
        return defaults
    }

    @Test func everyFlagsDefaultInTheHelpMatchesTheREADME() throws {
        let help = try ServerProcess(["--help"])
        #expect(help.exitStatus() == 0)
        let shown = Self.helpDefaults(help.stdout)
        let documented = Self.readmeDefaults(try String(contentsOf: Self.readme, encoding: .utf8))
        #expect(shown.count >= 25, "\(shown)")
        #expect(Set(shown.keys) == Set(documented.keys))
        for (flag, text) in documented.sorted(by: { $0.key < $1.key }) {
            #expect(shown[flag] == text, "\(flag): --help says \(shown[flag] ?? "nothing"), the README \(text)")
        }
    }

    @Test func passwdHelpShowsItsDefaultOnce() throws {
        let help = try ServerProcess(["passwd", "--help"])
        #expect(help.exitStatus() == 0)
        #expect(help.stdout.components(separatedBy: "conf/ftp-users").count == 2, "\(help.stdout)")
    }
}
