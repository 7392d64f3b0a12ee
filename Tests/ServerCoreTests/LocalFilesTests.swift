import Foundation
import Glibc
import Testing
import ServerCore

/// The Glibc-only file helpers that stand in for Foundation in the server.
@Suite struct LocalFilesTests {
    @Test func normalizedFoldsDotsLikeStandardizingPath() {
        #expect(LocalFiles.normalized("/etc/appserver/../www/./x") == "/etc/www/x")
        #expect(LocalFiles.normalized("/../a//b/") == "/a/b")
        #expect(LocalFiles.normalized("conf/../../www") == "../www")
        #expect(LocalFiles.normalized("./") == ".")
        #expect(LocalFiles.lastComponent("/a/b/c.zone") == "c.zone")
    }

    @Test func foldersFilesAndNames() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("localfiles-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        #expect(LocalFiles.createDirectories(base + "/a/b/c", mode: 0o700) == nil)
        #expect(LocalFiles.isDirectory(base + "/a/b/c"))
        #expect(LocalFiles.write(Array("one\n".utf8), to: base + "/a/f"))
        #expect(LocalFiles.read(base + "/a/f") == Array("one\n".utf8))
        chmod(base + "/a/f", 0o640)
        #expect(LocalFiles.write(Array("two\n".utf8), to: base + "/a/f"))
        var info = stat()
        stat(base + "/a/f", &info)
        #expect(info.st_mode & 0o777 == 0o640)
        #expect(LocalFiles.names(in: base + "/a")?.sorted() == ["b", "f"])
        #expect(LocalFiles.createDirectories(base + "/a/f/x") != nil)
        #expect(LocalFiles.read(base + "/missing") == nil)
        #expect(LocalFiles.resolved(base + "/a/b/../f") == LocalFiles.resolved(base + "/a/f"))
    }

    @Test func trimmingBlanks() {
        #expect(" \tkey = v \r".trimmingBlanks == "key = v")
        #expect("   ".trimmingBlanks == "")
        #expect(Substring("x").trimmingBlanks == "x")
    }
}
