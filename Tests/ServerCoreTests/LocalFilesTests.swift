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
    }

    /// Reads relative to a folder opened once: confined ones never leave it.
    @Test func readsThroughAnOpenedFolder() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("localfiles-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        #expect(LocalFiles.createDirectories(base + "/in/sub") == nil)
        #expect(LocalFiles.write(Array("in\n".utf8), to: base + "/in/f"))
        #expect(LocalFiles.write(Array("out\n".utf8), to: base + "/out"))
        symlink(base + "/out", base + "/in/link")
        let folder = try LocalFiles.openDirectory(base + "/in").get()
        #expect(try LocalFiles.names(in: folder).get().sorted() == ["f", "link", "sub"])
        #expect(LocalFiles.isDirectory("sub", in: folder) && !LocalFiles.isDirectory("f", in: folder))
        #expect(try LocalFiles.read("f", in: folder, confined: true).get() == Array("in\n".utf8))
        for escape in ["../out", base + "/out", "link"] {
            #expect(throws: LocalFiles.Errno(EXDEV)) { try LocalFiles.read(escape, in: folder, confined: true).get() }
        }
        #expect(try LocalFiles.read("link", in: folder, confined: false).get() == Array("out\n".utf8))
        #expect(throws: LocalFiles.Errno(ENOENT)) { try LocalFiles.read("missing", in: folder, confined: false).get() }
        #expect(throws: LocalFiles.Errno(ENOTDIR)) { try LocalFiles.openDirectory(base + "/out").get() }
    }

    @Test func trimmingBlanks() {
        #expect(" \tkey = v \r".trimmingBlanks == "key = v")
        #expect("   ".trimmingBlanks == "")
        #expect(Substring("x").trimmingBlanks == "x")
    }
}
