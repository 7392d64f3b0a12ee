import Foundation
import Logging
import Synchronization
import Testing
@testable import FTPService

@Suite struct AbandonedUploadsTests {
    /// What a kill -9 mid-upload leaves, at any depth; nothing else goes, and nothing outside
    /// the root is reached through a symlink.
    @Test func uploadTemporariesAreRemovedAtStart() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("ftp-leftovers-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        let root = base + "/root"
        for folder in [root + "/a/b", base + "/outside"] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        for file in [root + "/.appserver-upload-1x", root + "/a/b/.appserver-upload-zz", root + "/a/keep.txt",
                     root + "/a/.appserver-uploadish", base + "/outside/.appserver-upload-9"] {
            try Data("partial".utf8).write(to: URL(fileURLWithPath: file))
        }
        try FileManager.default.createDirectory(atPath: root + "/.appserver-upload-dir", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: base + "/outside")
        try FileManager.default.createSymbolicLink(atPath: root + "/.appserver-upload-link", withDestinationPath: base + "/outside/.appserver-upload-9")
        let fs = try VirtualFS(root: root)
        let removed = fs.removeAbandonedUploads(logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        #expect(Set(removed) == ["/.appserver-upload-1x", "/a/b/.appserver-upload-zz"])
        #expect(FileManager.default.fileExists(atPath: base + "/outside/.appserver-upload-9"))
        #expect(FileManager.default.fileExists(atPath: root + "/a/keep.txt"))
        #expect(FileManager.default.fileExists(atPath: root + "/a/.appserver-uploadish"))
        #expect(FileManager.default.fileExists(atPath: root + "/.appserver-upload-dir"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/a/b") == [])
    }

    /// A folder named by MKD with a quote and a CR: the notice is one line, escaped.
    @Test func theNoticeEscapesFolderNames() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ftp-leftovers-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/a\"b\rc", withIntermediateDirectories: true)
        try Data("partial".utf8).write(to: URL(fileURLWithPath: root + "/a\"b\rc/.appserver-upload-1x"))
        let lines = Lines()
        _ = try VirtualFS(root: root).removeAbandonedUploads(logger: Logger(label: "test") { _ in lines })
        #expect(lines.all == ["ftp: removed /a\\x22b\\x0Dc/.appserver-upload-1x, left by an interrupted upload"])
    }

    /// Keeps the messages logged through it.
    struct Lines: LogHandler {
        final class Store: Sendable { let lines = Mutex<[String]>([]) }
        let store = Store()
        var logLevel = Logger.Level.trace
        var metadata: Logger.Metadata = [:]
        var all: [String] { store.lines.withLock { $0 } }

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let text = event.message.description
            store.lines.withLock { $0.append(text) }
        }
    }
}
