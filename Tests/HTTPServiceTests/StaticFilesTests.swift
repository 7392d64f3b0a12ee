import Foundation
import Testing
@testable import HTTPService

/// The jail, against a real folder (files, not sockets).
@Suite struct StaticFilesTests {
    func withSite(cacheValidity: Double = 0, _ body: (String, StaticFiles) throws -> Void) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("appserver-files-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        let root = base + "/www"
        try FileManager.default.createDirectory(atPath: root + "/dir", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/empty", withIntermediateDirectories: true)
        try Data("top".utf8).write(to: URL(fileURLWithPath: root + "/a.txt"))
        try Data("index".utf8).write(to: URL(fileURLWithPath: root + "/dir/index.html"))
        try Data("secret".utf8).write(to: URL(fileURLWithPath: base + "/secret.txt"))
        try FileManager.default.createSymbolicLink(atPath: root + "/out", withDestinationPath: base + "/secret.txt")
        try FileManager.default.createSymbolicLink(atPath: root + "/outdir", withDestinationPath: base)
        try FileManager.default.createSymbolicLink(atPath: root + "/rel", withDestinationPath: "../secret.txt")
        try FileManager.default.createSymbolicLink(atPath: root + "/in", withDestinationPath: "a.txt")
        try body(root, try StaticFiles(root: root, cacheValidity: cacheValidity))
    }

    func kind(_ lookup: StaticFiles.Lookup) -> String {
        switch lookup {
        case .file(_, let metadata, let path, _, _): "file \(path) \(metadata.size)"
        case .redirect(let location): "redirect \(location)"
        case .notFound: "404"
        case .forbidden: "403"
        case .failed(let errno): "error \(errno)"
        }
    }

    func metadata(_ lookup: StaticFiles.Lookup) -> FileMetadata? {
        guard case .file(_, let metadata, _, _, _) = lookup else { return nil }
        return metadata
    }

    @Test func servesFilesAndIndexes() throws {
        try withSite { _, files in
            #expect(kind(files.lookup("a.txt", directorySyntax: false)) == "file a.txt 3")
            #expect(kind(files.lookup("dir", directorySyntax: true)) == "file dir/index.html 5")
            #expect(kind(files.lookup("dir", directorySyntax: false)) == "redirect /dir/")
            #expect(kind(files.lookup("empty", directorySyntax: true)) == "404")
            #expect(kind(files.lookup("missing", directorySyntax: false)) == "404")
            #expect(kind(files.lookup("a.txt/x", directorySyntax: false)) == "404")
        }
    }

    @Test func symlinksInsideAreFollowedOutsideRefused() throws {
        try withSite { _, files in
            #expect(kind(files.lookup("in", directorySyntax: false)) == "file in 3")
            #expect(kind(files.lookup("out", directorySyntax: false)) == "404")
            #expect(kind(files.lookup("rel", directorySyntax: false)) == "404")
            #expect(kind(files.lookup("outdir/secret.txt", directorySyntax: false)) == "404")
        }
    }

    @Test func specialFilesAreRefused() throws {
        try withSite { root, files in
            #expect(mkfifo(root + "/pipe", 0o644) == 0)
            #expect(kind(files.lookup("pipe", directorySyntax: false)) == "403")
        }
    }

    @Test func precompressedOnlyWhenFresh() throws {
        try withSite { root, files in
            let metadata = try #require(self.metadata(files.lookup("a.txt", directorySyntax: false)))
            #expect(files.precompressed("a.txt", original: metadata) == nil)
            try Data([0x1f, 0x8b]).write(to: URL(fileURLWithPath: root + "/a.txt.gz"))
            #expect(files.precompressed("a.txt", original: metadata)?.1.size == 2)
            let old = Date(timeIntervalSince1970: 1000)
            try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: root + "/a.txt.gz")
            #expect(files.precompressed("a.txt", original: metadata) == nil)
        }
    }

    @Test func cacheReusesWhatItFoundForItsValidity() throws {
        try withSite(cacheValidity: 1) { root, files in
            let cached = Date()
            #expect(kind(files.lookup("new.txt", directorySyntax: false)) == "404")
            try Data("new".utf8).write(to: URL(fileURLWithPath: root + "/new.txt"))
            #expect(kind(files.lookup("new.txt", directorySyntax: false)) == "404")
            // An entry is not renewed by use: asking again and again, the new file shows
            // once the validity has run out, and not before.
            let deadline = Date().addingTimeInterval(10)
            while kind(files.lookup("new.txt", directorySyntax: false)) == "404" && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.02)
            }
            #expect(Date().timeIntervalSince(cached) >= 1)
            #expect(kind(files.lookup("new.txt", directorySyntax: false)) == "file new.txt 3")
            try FileManager.default.removeItem(atPath: root + "/new.txt")
            #expect(kind(files.lookup("new.txt", directorySyntax: false)) == "file new.txt 3")
        }
    }

    @Test func missingRootIsAnError() {
        #expect(throws: StaticFiles.MissingRoot.self) { try StaticFiles(root: "/nonexistent/appserver-www") }
    }
}
