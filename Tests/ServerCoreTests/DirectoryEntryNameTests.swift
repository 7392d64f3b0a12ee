import Glibc
import ServerCore
import Testing

/// Names are read within readdir's record (the ftp fuzz target found the whole `dirent`
/// being copied, past the end of a short record, under AddressSanitizer).
@Suite struct DirectoryEntryNameTests {
    @Test func namesOfEveryLengthComeBackWhole() throws {
        let folder = "/tmp/appserver-dirent-\(getpid())"
        mkdir(folder, 0o700)
        defer {
            for name in LocalFiles.names(in: folder) ?? [] { unlink(folder + "/" + name) }
            rmdir(folder)
        }
        let names = (1...255).filter { $0 % 17 == 1 || $0 == 255 }.map { String(repeating: "n", count: $0) } + ["é ü"]
        for name in names { close(open(folder + "/" + name, O_CREAT | O_WRONLY, 0o600)) }
        #expect(Set(try #require(LocalFiles.names(in: folder))) == Set(names))
    }
}
