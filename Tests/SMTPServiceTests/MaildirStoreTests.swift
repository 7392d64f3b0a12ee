import Foundation
import Glibc
import Logging
import ServerCore
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

    func spooled(_ text: String, in store: MaildirStore) throws -> MaildirStore.Spool {
        let spool = try store.spool()
        spool.write(Array(text.utf8))
        return spool
    }

    func files(_ relative: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path + "/" + relative)) ?? []).sorted()
    }

    /// The second recipient's Maildir cannot be written (its tmp is a file, which stops root
    /// too): the first recipient's copy must not stay in new/, nor in tmp/.
    @Test func aFailedCopyLeavesNoCopyAnywhere() throws {
        let store = try store()
        try FileManager.default.createDirectory(atPath: folder.path + "/mail/example.test/bob", withIntermediateDirectories: true)
        try Data().write(to: URL(fileURLWithPath: folder.path + "/mail/example.test/bob/tmp"))
        let spool = try spooled("Subject: once\r\n\r\n", in: store)
        defer { spool.discard() }
        let recipients = ["<alice@example.test>", "<bob@example.test>", "<carol@example.test>"].map { MailAddress(path: $0)! }
        #expect(throws: MaildirStore.Failure.self) { try store.deliver(spool, to: recipients) { _ in [] } }
        #expect(files("mail/example.test/alice/new") == [])
        #expect(files("mail/example.test/alice/tmp") == [])
        #expect(files("mail/example.test/carol") == [])
    }

    /// The rename into the second new/ fails (new is a file): the first, already renamed, is taken back.
    @Test func aFailedRenameTakesBackTheCopiesAlreadyInNew() throws {
        let store = try store()
        for sub in ["tmp", "cur"] {
            try FileManager.default.createDirectory(atPath: folder.path + "/mail/example.test/bob/" + sub, withIntermediateDirectories: true)
        }
        try Data().write(to: URL(fileURLWithPath: folder.path + "/mail/example.test/bob/new"))
        let spool = try spooled("x", in: store)
        defer { spool.discard() }
        let recipients = ["<alice@example.test>", "<bob@example.test>", "<carol@example.test>"].map { MailAddress(path: $0)! }
        #expect(throws: MaildirStore.Failure.self) { try store.deliver(spool, to: recipients) { _ in [] } }
        #expect(files("mail/example.test/bob/tmp") == [])
        for mailbox in ["alice", "carol"] {
            #expect(files("mail/example.test/\(mailbox)/new") == [], "\(mailbox)")
            #expect(files("mail/example.test/\(mailbox)/tmp") == [], "\(mailbox)")
        }
    }

    /// What a kill -9 leaves: spool files (all go) and Maildir tmp/ files (only those older
    /// than 36 hours by the store's clock go).
    @Test func crashLeftoversAreRemovedAtStart() throws {
        let store = try store()
        let now = 1_700_000_000
        let spool = try store.spool()
        spool.write(Array("whole message".utf8))
        let tmp = folder.path + "/mail/example.test/alice/tmp"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder.path + "/mail/example.test/alice/new", withIntermediateDirectories: true)
        for (name, age) in [("old", 36 * 3600 + 1), ("young", 36 * 3600 - 60), ("future", -3600)] {
            try Data("x".utf8).write(to: URL(fileURLWithPath: tmp + "/" + name))
            var times = [timespec(tv_sec: now - age, tv_nsec: 0), timespec(tv_sec: now - age, tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, tmp + "/" + name, &times, 0) == 0)
        }
        try Data("keep".utf8).write(to: URL(fileURLWithPath: folder.path + "/mail/example.test/alice/new/delivered"))
        try FileManager.default.createDirectory(atPath: folder.path + "/spool/a-folder", withIntermediateDirectories: true)
        let removed = store.removeCrashLeftovers(logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        #expect(Set(removed) == [spool.path, tmp + "/old"])
        #expect(files("spool") == ["a-folder"])
        #expect(files("mail/example.test/alice/tmp") == ["future", "young"])
        #expect(files("mail/example.test/alice/new") == ["delivered"])
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
        let client = TraceHeader.Client(name: "client.test", ip: "192.0.2.9", extended: true, tls: nil)
        let header = TraceHeader.lines(sender: "a@b.test", client: client, hostname: "mx.example.test", id: "abc",
                                       recipient: MailAddress(path: "<x@example.test>")!, date: 784_111_777)
        #expect(String(decoding: header, as: UTF8.self) == "Return-Path: <a@b.test>\r\nReceived: from client.test ([192.0.2.9])\r\n"
            + "\tby mx.example.test with ESMTP id abc\r\n\tfor <x@example.test>; Sun, 06 Nov 1994 08:49:37 +0000\r\n")
    }

    /// As Postfix writes it: the TLS comment before `by`, and ESMTPS (RFC 3848); SMTPS after HELO.
    @Test func traceHeaderOverTLS() {
        let tls = TLSInfo(version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384", resumed: false)
        let recipient = MailAddress(path: "<x@example.test>")!
        let header = TraceHeader.lines(sender: "a@b.test", client: .init(name: "client.test", ip: "192.0.2.9", extended: true, tls: tls),
                                       hostname: "mx.example.test", id: "abc", recipient: recipient, date: 784_111_777)
        #expect(String(decoding: header, as: UTF8.self) == "Return-Path: <a@b.test>\r\nReceived: from client.test ([192.0.2.9])\r\n"
            + "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n"
            + "\tby mx.example.test with ESMTPS id abc\r\n\tfor <x@example.test>; Sun, 06 Nov 1994 08:49:37 +0000\r\n")
        let helo = TraceHeader.lines(sender: "a@b.test", client: .init(name: "client.test", ip: "192.0.2.9", extended: false, tls: tls),
                                     hostname: "mx.example.test", id: "abc", recipient: recipient, date: 784_111_777)
        #expect(String(decoding: helo, as: UTF8.self).contains("\tby mx.example.test with SMTPS id abc\r\n"))
    }
}
