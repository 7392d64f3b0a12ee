import Foundation
import Synchronization

/// The zones folder: every `*.zone` file in it, loaded at start and again on request
/// (SIGHUP). A zone that fails to reload keeps its previous version.
public final class ZoneStore: Sendable {
    public let folder: String
    private let current = Mutex(Authority(zones: []))
    /// Zones by file, so a failed reload can keep the last good version.
    private let loaded = Mutex<[String: Zone]>([:])

    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Loads every zone; any error stops here, so a server never starts half-configured.
    public init(folder: String) throws(LoadError) {
        self.folder = folder
        let files = try ZoneStore.zoneFiles(in: folder)
        var zones: [String: Zone] = [:]
        for file in files {
            do {
                zones[file] = try ZoneFileParser.load(path: folder + "/" + file, folder: folder)
            } catch {
                throw LoadError(description: error.description)
            }
        }
        try ZoneStore.checkDistinct(zones)
        loaded.withLock { $0 = zones }
        current.withLock { $0 = Authority(zones: Array(zones.values)) }
    }

    public var authority: Authority { current.withLock { $0 } }

    /// Reloads every file; returns what went wrong, one line per file (empty when all loaded).
    public func reload() -> [String] {
        var problems: [String] = []
        let files: [String]
        do {
            files = try ZoneStore.zoneFiles(in: folder)
        } catch {
            return [error.description]
        }
        let previous = loaded.withLock { $0 }
        var zones: [String: Zone] = [:]
        for file in files {
            do {
                zones[file] = try ZoneFileParser.load(path: folder + "/" + file, folder: folder)
            } catch {
                problems.append("\(error.description) (keeping the previous version)")
                if let old = previous[file] { zones[file] = old }
            }
        }
        do {
            try ZoneStore.checkDistinct(zones)
        } catch {
            return [error.description + " (keeping all zones as they were)"]
        }
        loaded.withLock { $0 = zones }
        current.withLock { $0 = Authority(zones: Array(zones.values)) }
        return problems
    }

    private static func zoneFiles(in folder: String) throws(LoadError) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue,
              let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
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
