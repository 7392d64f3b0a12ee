import ServerCore
import Synchronization

/// The zones folder: every `*.zone` file in it, loaded at start and again on request
/// (SIGHUP). A zone that fails to reload keeps its previous version. Beside them, the zones
/// we are a secondary for (`Secondaries` installs each copy as it is transferred); one with
/// no copy yet, or expired, is `unavailable` and answered SERVFAIL.
public final class ZoneStore: Sendable {
    /// Opened once, at start: reloads read through its descriptor (see `ZoneFolder`).
    let folder: ZoneFolder?
    /// Files in the folder that are neither `*.zone` nor included by one, as last loaded:
    /// named in a notice, since a zone file misnamed is otherwise silently not served.
    public var ignoredFiles: [String] { state.withLock { $0.ignored } }
    /// Zones by file (so a failed reload can keep the last good version), and the lookups over them.
    /// `generation` counts reloads, so what was derived from the zones can tell it is stale.
    private let state: Mutex<(byFile: [String: Zone], authority: Authority, generation: Int, ignored: [String])>
    private let secondary: Mutex<(zones: [DNSName: Zone], unavailable: Set<DNSName>)>

    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Loads every zone; any error stops here, so a server never starts half-configured.
    /// `secondaries`: the zones we copy from a primary, with the copy kept from last time if any.
    public init(folder path: String, secondaries: [DNSName: Zone?] = [:]) throws(LoadError) {
        let folder = try ZoneFolder(path)
        self.folder = folder
        let loaded = try ZoneStore.load(folder, keeping: [:])
        if let first = loaded.problems.first { throw LoadError(description: first.description) }
        for (file, zone) in loaded.zones where secondaries[zone.origin] != nil {
            throw LoadError(description: "\(folder.display(file)): the zone \(zone.origin) is also a --dns-secondary zone; serve it one way")
        }
        let copies = secondaries.compactMapValues { $0 }
        secondary = Mutex((copies, Set(secondaries.keys.filter { copies[$0] == nil })))
        state = Mutex((loaded.zones, Authority(zones: Array(loaded.zones.values) + Array(copies.values)), 0, loaded.ignored))
    }

    /// Zones given whole rather than read from a folder (tests, fuzzing): a reload keeps them.
    public init(zones: [Zone]) {
        folder = nil
        let byFile = Dictionary(uniqueKeysWithValues: zones.enumerated().map { ("\($0.offset)", $0.element) })
        state = Mutex((byFile, Authority(zones: zones), 0, []))
        secondary = Mutex(([:], []))
    }

    public var authority: Authority { state.withLock { $0.authority } }

    /// The zones read from the folder (not the secondary ones): those we send NOTIFY for.
    public var primaryZones: [Zone] { state.withLock { Array($0.byFile.values) } }

    /// The lookups over the zones, how many reloads made them, and the secondary zones we
    /// have no current copy of.
    var current: (authority: Authority, generation: Int, unavailable: Set<DNSName>) {
        let unavailable = secondary.withLock { $0.unavailable }
        return state.withLock { ($0.authority, $0.generation, unavailable) }
    }

    /// A secondary zone's new copy, served from now on.
    public func install(_ zone: Zone) {
        secondary.withLock {
            $0.zones[zone.origin] = zone
            $0.unavailable.remove(zone.origin)
        }
        rebuild()
    }

    /// A secondary zone past its expire time: SERVFAIL until a transfer succeeds.
    public func expire(_ origin: DNSName) {
        secondary.withLock {
            $0.zones[origin] = nil
            $0.unavailable.insert(origin)
        }
        rebuild()
    }

    private func rebuild() {
        let copies = secondary.withLock { Array($0.zones.values) }
        state.withLock { $0 = ($0.byFile, Authority(zones: Array($0.byFile.values) + copies), $0.generation + 1, $0.ignored) }
    }

    /// Reloads every file; returns what went wrong, one line per file (empty when all loaded).
    public func reload() -> [String] {
        guard let folder else { return [] }
        do {
            let loaded = try ZoneStore.load(folder, keeping: state.withLock { $0.byFile })
            let copies = secondary.withLock { $0 }
            var problems = loaded.problems.map { "\($0.description) (keeping the previous version)" }
            var zones = loaded.zones
            for (file, zone) in zones where copies.zones[zone.origin] != nil || copies.unavailable.contains(zone.origin) {
                problems.append("\(folder.display(file)): the zone \(zone.origin) is a --dns-secondary zone (not loaded from the file)")
                zones[file] = nil
            }
            state.withLock { $0 = (zones, Authority(zones: Array(zones.values) + Array(copies.zones.values)), $0.generation + 1, loaded.ignored) }
            return problems
        } catch {
            return [error.description + " (keeping all zones as they were)"]
        }
    }

    /// Parses every zone file; one that fails keeps its version from `previous`, if any.
    private static func load(_ folder: ZoneFolder, keeping previous: [String: Zone]) throws(LoadError)
        -> (zones: [String: Zone], problems: [ZoneFileParser.Failure], ignored: [String]) {
        var zones: [String: Zone] = [:]
        var problems: [ZoneFileParser.Failure] = []
        var included: Set<String> = []
        let names = try folder.names().sorted()
        for file in names where file.hasSuffix(".zone") {
            do {
                let loaded = try ZoneFileParser.load(file, in: folder)
                zones[file] = loaded.zone
                included.formUnion(loaded.included)
            } catch {
                problems.append(error)
                zones[file] = previous[file]
            }
        }
        try checkDistinct(zones)
        let ignored = names.filter {
            !$0.hasSuffix(".zone") && !included.contains($0) && !included.contains(folder.display($0)) && !folder.isDirectory($0)
        }
        return (zones, problems, ignored)
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
