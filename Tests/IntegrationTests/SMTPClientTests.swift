import Foundation
import Glibc
import Testing

/// The SMTP service against swaks, curl and Python's smtplib.
@Suite struct SMTPClientTests {
    static let hasSwaks = Tools.find("swaks") != nil
    static let hasPython = Tools.find("python3") != nil

    @Test(.enabled(if: hasSwaks, "swaks is not installed: skipping the swaks tests"))
    func swaksDeliversToTwoRecipientsAndRelayIsRefused() throws {
        let server = try TestSMTPServer()
        let sent = try Tools.run("swaks", ["--server", "127.0.0.1:\(server.port)", "--from", "sender@outside.test",
                                          "--to", "alice@example.test,Bob@Example.test", "--header", "Subject: hello from swaks",
                                          "--body", "line one\n.leading dot\nline three"])
        #expect(sent.status == 0, "\(sent.text)")
        for user in ["alice", "bob"] {
            let messages = server.messages(user)
            #expect(messages.count == 1)
            let message = messages.first ?? ""
            #expect(message.hasPrefix("Return-Path: <sender@outside.test>\r\nReceived: from "))
            #expect(message.contains("by mx.example.test with ESMTP id "))
            #expect(message.contains("Subject: hello from swaks\r\n"))
            #expect(message.contains("\r\n.leading dot\r\n"))
        }
        let relay = try Tools.run("swaks", ["--server", "127.0.0.1:\(server.port)", "--to", "someone@elsewhere.test"])
        #expect(relay.status != 0)
        #expect(relay.text.contains("554 5.7.1 Relay access denied"))
        #expect(server.allFiles.count == 2)
    }

    @Test(.enabled(if: hasSwaks, "swaks is not installed"))
    func swaksPipelining() throws {
        let server = try TestSMTPServer()
        let sent = try Tools.run("swaks", ["--server", "127.0.0.1:\(server.port)", "--pipeline", "--to", "pipe@example.test"])
        #expect(sent.status == 0, "\(sent.text)")
        #expect(server.messages("pipe").count == 1)
    }

    @Test(.enabled(if: Tools.hasCurl, "curl is not installed"))
    func curlUploadsAMessage() throws {
        let server = try TestSMTPServer()
        try server.data.write("message.txt", "From: a@outside.test\r\nTo: carol@example.test\r\nSubject: by curl\r\n\r\nHello.\r\n.dot line\r\n")
        let result = try Tools.curl(["smtp://127.0.0.1:\(server.port)", "--mail-from", "a@outside.test", "--mail-rcpt", "carol@example.test",
                                     "--upload-file", server.data.path + "/message.txt"])
        #expect(result.status == 0, "\(result.stderr)")
        let message = server.messages("carol").first ?? ""
        #expect(message.hasSuffix("Subject: by curl\r\n\r\nHello.\r\n.dot line\r\n"))
    }

    /// msmtp is the sendmail that `mail` and scripts pipe a message into.
    @Test(.enabled(if: Tools.find("msmtp") != nil, "msmtp is not installed"))
    func sendmailInterfaceThroughMsmtp() throws {
        let server = try TestSMTPServer()
        let message = "To: frank@example.test\nSubject: via sendmail\n\nplain LF line endings\n.lonely dot line\n"
        let sent = try Tools.run("msmtp", ["--host=127.0.0.1", "--port=\(server.port)", "--auth=off", "--tls=off",
                                          "--from=script@outside.test", "-t"], stdin: Array(message.utf8))
        #expect(sent.status == 0, "\(sent.stderr)")
        let stored = server.messages("frank").first ?? ""
        #expect(stored.contains("Subject: via sendmail\r\n\r\nplain LF line endings\r\n.lonely dot line\r\n"))
    }

    @Test(.enabled(if: hasPython, "python3 is not installed"))
    func pythonSmtplibAndMailboxReadIt() throws {
        let server = try TestSMTPServer()
        let script = """
        import smtplib, mailbox, sys
        from email.message import EmailMessage
        msg = EmailMessage()
        msg["From"] = "py@outside.test"; msg["To"] = "dave@example.test"; msg["Subject"] = "from smtplib"
        msg.set_content("caf\\u00e9 \\u2615\\n.starts with a dot\\n")
        with smtplib.SMTP("127.0.0.1", \(server.port), timeout=10) as s:
            s.ehlo("python.test")
            assert s.has_extn("pipelining") and s.has_extn("size") and s.has_extn("8bitmime")
            refused = s.send_message(msg, to_addrs=["dave@example.test", "eve@elsewhere.test"])
            assert list(refused) == ["eve@elsewhere.test"], refused
            assert refused["eve@elsewhere.test"][0] == 554
            try:
                s.sendmail("py@outside.test", ["x@elsewhere.test"], "Subject: no\\r\\n\\r\\nno")
                sys.exit("relayed")
            except smtplib.SMTPRecipientsRefused:
                pass
        box = mailbox.Maildir(sys.argv[1], create=False)
        [(key, got)] = box.items()
        assert got["Subject"] == "from smtplib", got["Subject"]
        assert got["Return-Path"] == "<py@outside.test>"
        body = got.get_payload(decode=True).decode()
        assert body == "caf\\u00e9 \\u2615\\n.starts with a dot\\n" or body.replace("\\r\\n", "\\n") == "caf\\u00e9 \\u2615\\n.starts with a dot\\n", repr(body)
        print("ok")
        """
        try server.data.write("check.py", script)
        let result = try Tools.run("python3", [server.data.path + "/check.py", server.data.path + "/mail/example.test/dave"])
        #expect(result.text == "ok\n", "\(result.stderr)")
    }
}

/// The command as a new user runs it: the shipped config's domain, a client, the Maildir.
@Suite(.enabled(if: ServerProcess.binary != nil, "needs the built appserver binary"))
struct SMTPCommandTests {
    /// With a raw socket, so that it runs wherever the binary does: delivery into the
    /// shipped domain, the crash leftovers removed at start, and a clean SIGTERM.
    @Test func shippedDomainLandsInAMaildirAndLeftoversGoAtStart() throws {
        let data = try TemporaryFolder("appserver-data")
        try data.write("data/spool/1700000000.M1P1Q1.host", "a whole message from a killed delivery")
        try data.write("data/mail/old.test/someone/tmp/stale", "dead delivery")
        try data.write("data/mail/old.test/someone/tmp/fresh", "delivery under way")
        var times = [timespec(tv_sec: time(nil) - 37 * 3600, tv_nsec: 0), timespec(tv_sec: time(nil) - 37 * 3600, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, data.path + "/data/mail/old.test/someone/tmp/stale", &times, 0) == 0)
        let server = try ServerProcess(["--config", "conf/appserver.conf", "--services", "smtp", "--smtp-port", "0",
                                        "--listen", "127.0.0.1", "--data", data.path + "/data"])
        let port = try #require(server.listeningPort())
        #expect(server.stdout.contains("smtp: removed 1 file(s) left in \(data.path)/data/spool by an interrupted delivery"))
        #expect(server.stdout.contains("smtp: removed 1 file(s) left in \(data.path)/data/mail/old.test/someone/tmp by an interrupted delivery"))
        #expect(data.read("data/spool/1700000000.M1P1Q1.host") == nil)
        #expect(data.read("data/mail/old.test/someone/tmp/stale") == nil)
        #expect(data.read("data/mail/old.test/someone/tmp/fresh") != nil)

        let client = try RawClient(port: port)
        #expect(String(decoding: client.read(atLeast: 5), as: UTF8.self).hasPrefix("220 "))
        client.send("EHLO raw.test\r\nMAIL FROM:<raw@outside.test>\r\nRCPT TO:<someone@example.test>\r\nDATA\r\nSubject: raw\r\n\r\nhi\r\n.\r\nQUIT\r\n")
        #expect(String(decoding: client.readAll(), as: UTF8.self).contains("250 2.0.0 OK: queued as "))
        #expect(server.logged("to=<someone@example.test> size="))
        let inbox = data.path + "/data/mail/example.test/someone/new"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: inbox)) ?? []
        #expect(names.count == 1)
        let message = names.first.flatMap { try? String(contentsOfFile: inbox + "/" + $0, encoding: .utf8) } ?? ""
        #expect(message.hasPrefix("Return-Path: <raw@outside.test>\r\nReceived: from raw.test "))
        #expect(message.hasSuffix("Subject: raw\r\n\r\nhi\r\n"))
        server.signal(SIGTERM)
        #expect(server.exitStatus() == 0)
    }

    @Test(.enabled(if: Tools.find("swaks") != nil && Tools.find("python3") != nil, "needs swaks and python3 (the raw-socket test above covers the rest)"))
    func swaksThenPythonReadsTheMaildir() throws {
        let data = try TemporaryFolder("appserver-data")
        let server = try ServerProcess(["--config", "conf/appserver.conf", "--services", "smtp", "--smtp-port", "0",
                                        "--listen", "127.0.0.1", "--data", data.path + "/data"])
        let port = try #require(server.listeningPort())
        let sent = try Tools.run("swaks", ["--to", "someone@example.test", "--server", "127.0.0.1:\(port)"])
        #expect(sent.status == 0, "\(sent.text)")
        #expect(server.logged("to=<someone@example.test> size="))
        let read = try Tools.run("python3", ["-c", "import mailbox,sys; b=mailbox.Maildir(sys.argv[1], create=False); print(len(b), b[b.keys()[0]]['X-Mailer'].split()[0])",
                                             data.path + "/data/mail/example.test/someone"])
        #expect(read.text == "1 swaks\n", "\(read.stderr)")
        server.signal(SIGTERM)
        #expect(server.exitStatus() == 0)
    }
}
