import ServerCore
import Synchronization

/// The zones folder: every `*.zone` file in it, loaded at start and again on request
/// (SIGHUP). A zone that fails to reload keeps its previous version.
public final class ZoneStore: Sendable {
    public let folder: String
    /// Zones by file (so a failed reload can keep the last good version), and the lookups over them.
    /// `generation` counts reloads, so what was derived from the zones can tell it is stale.
    private let state: Mutex<(byFile: [String: Zone], authority: Authority, generation: Int)>

    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Loads every zone; any error stops here, so a server never starts half-configured.
    public init(folder: String) throws(LoadError) {
        self.folder = folder
        let (zones, problems) = try ZoneStore.load(folder, keeping: [:])
        if let first = problems.first { throw LoadError(description: first.description) }
        state = Mutex((zones, Authority(zones: Array(zones.values)), 0))
    }

    /// Zones given whole rather than read from a folder (tests, fuzzing): a reload keeps them.
    public init(zones: [Zone]) {
        folder = ""
        let byFile = Dictionary(uniqueKeysWithValues: zones.enumerated().map { ("\($0.offset)", $0.element) })
        state = Mutex((byFile, Authority(zones: zones), 0))
    }

    public var authority: Authority { state.withLock { $0.authority } }

    /// The lookups over the zones, and how many reloads made them.
    var current: (authority: Authority, generation: Int) { state.withLock { ($0.authority, $0.generation) } }

    /// Reloads every file; returns what went wrong, one line per file (empty when all loaded).
    public func reload() -> [String] {
        do {
            let (zones, problems) = try ZoneStore.load(folder, keeping: state.withLock { $0.byFile })
            state.withLock { $0 = (zones, Authority(zones: Array(zones.values)), $0.generation + 1) }
            return problems.map { "\($0.description) (keeping the previous version)" }
        } catch {
            return [error.description + " (keeping all zones as they were)"]
        }
    }

    /// Parses every zone file; one that fails keeps its version from `previous`, if any.
    private static func load(_ folder: String, keeping previous: [String: Zone]) throws(LoadError)
        -> ([String: Zone], [ZoneFileParser.Failure]) {
        var zones: [String: Zone] = [:]
        var problems: [ZoneFileParser.Failure] = []
        for file in try zoneFiles(in: folder) {
            do {
                zones[file] = try ZoneFileParser.load(path: folder + "/" + file, folder: folder)
            } catch {
                problems.append(error)
                zones[file] = previous[file]
            }
        }
        try checkDistinct(zones)
        return (zones, problems)
    }

    private static func zoneFiles(in folder: String) throws(LoadError) -> [String] {
        guard LocalFiles.isDirectory(folder), let names = LocalFiles.names(in: folder) else {
            throw LoadError(description: "cannot read the zones folder \(folder)")
        }
        return names.filter { $0.hasSuffix(".zone") && !$0.hasPrefix(".") }.sorted()
    }

    private static func checkDistinct(_ zones: [String: Zone]) throws(LoadError) {
        var seen: [DNSName: String] = [:]
        for (file, zone) in zones.sorted(by: { $0.key < $1.key }) {
            if let other = seen[zone.origin] {
                throw LoadError(description: "\(file) and \(other) both define the zone \(zone.origin)")
            }
            seen[zone.origin] = file
        }
    }
}
