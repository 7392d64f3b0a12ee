import Foundation
import Glibc
import Testing
@testable import SMTPService

@Suite struct MaildirStoreTests {
    final class Folder {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("maildir-\(UUID().uuidString)").path
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    let folder = Folder()

    func store() throws -> MaildirStore {
        try MaildirStore(data: folder.path, hostname: "mx/1:2") { timespec(tv_sec: 1_700_000_000, tv_nsec: 123_456_000) }
    }

    @Test func namesAreUniqueAndSafe() throws {
        let store = try store()
        let a = store.uniqueName(), b = store.uniqueName()
        #expect(a != b)
        #expect(a.hasPrefix("1700000000.M123456P\(getpid())Q"))
        #expect(a.hasSuffix(".mx\\0571\\0722"))
        #expect(!a.contains("/") && !a.contains(":"))
    }

    @Test func deliversOneCopyPerRecipientThroughTmpIntoNew() throws {
        let store = try store()
        let spool = try store.spool()
        spool.write(Array("Subject: hi\r\n\r\nbody\r\n".utf8))
        let recipients = [MailAddress(path: "<Alice@Example.test>")!, MailAddress(path: "<bob@example.test>")!]
        let names = try store.deliver(spool, to: recipients) { Array("X-For: \($0)\r\n".utf8) }
        spool.discard()
        #expect(names.count == 2)
        for (name, mailbox) in zip(names, ["alice", "bob"]) {
            let base = folder.path + "/mail/example.test/" + mailbox
            #expect(try FileManager.default.contentsOfDirectory(atPath: base + "/tmp").isEmpty)
            #expect(FileManager.default.fileExists(atPath: base + "/cur"))
            let text = try String(contentsOfFile: base + "/new/" + name, encoding: .utf8)
            #expect(text.hasPrefix("X-For: "))
            #expect(text.hasSuffix("Subject: hi\r\n\r\nbody\r\n"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path + "/spool").isEmpty)
    }

    @Test func aDiscardedSpoolLeavesNothing() throws {
        let store = try store()
        let spool = try store.spool()
        spool.write(Array("partial".utf8))
        spool.discard()
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path + "/spool").isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path + "/mail").isEmpty)
    }

    @Test func traceHeader() {
        let header = TraceHeader.lines(sender: "a@b.test", clientName: "client.test", clientIP: "192.0.2.9", hostname: "mx.example.test",
                                       extended: true, id: "abc", recipient: MailAddress(path: "<x@example.test>")!, date: 784_111_777)
        #expect(String(decoding: header, as: UTF8.self) == "Return-Path: <a@b.test>\r\nReceived: from client.test ([192.0.2.9])\r\n"
            + "\tby mx.example.test with ESMTP id abc\r\n\tfor <x@example.test>; Sun, 06 Nov 1994 08:49:37 +0000\r\n")
    }
}
