import Foundation
import Testing

/// STARTTLS and SMTPS against the clients people use: swaks, curl, Python's smtplib and
/// `openssl s_client`, each verifying the server's certificate.
@Suite struct SMTPTLSClientTests {
    static let hasSwaks = Tools.find("swaks") != nil && (try? Tools.run("perl", ["-MIO::Socket::SSL", "-e1"]))?.status == 0

    /// The message as stored shows the TLS session as Postfix writes it, and the access line its version.
    static func expectTLS(_ server: TestSMTPServer, _ user: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let message = server.messages(user).first ?? ""
        #expect(message.contains(#/\r\n\t\(using TLSv1\.3 with cipher TLS_[A-Z0-9_]+\)\r\n\tby mx\.example\.test with ESMTPS id /#),
                "\(message)", sourceLocation: sourceLocation)
        #expect(server.log.line(containing: "to=<\(user)@example.test> size=")?.contains(" tls=TLSv1.3 250 2.0.0 OK: queued as ") == true,
                "\(server.log.all)", sourceLocation: sourceLocation)
    }

    @Test(.enabled(if: hasSwaks, "swaks or its TLS module (libio-socket-ssl-perl) is not installed"))
    func swaksStartTLSAndTLSOnConnect() throws {
        let server = try TestSMTPServer(tls: .optional)
        let common = ["--from", "s@outside.test", "--tls-verify", "--tls-ca-path", server.cacert, "--tls-sni", "localhost"]
        let starttls = try Tools.run("swaks", ["--server", "127.0.0.1:\(server.port)", "--to", "starttls@example.test", "--tls"] + common)
        #expect(starttls.status == 0, "\(starttls.text)")
        #expect(starttls.text.contains("<-  220 2.0.0 Ready to start TLS"), "\(starttls.text)")
        Self.expectTLS(server, "starttls")
        let smtps = try Tools.run("swaks", ["--server", "127.0.0.1:\(server.smtpsPort ?? 0)", "--to", "smtps@example.test", "--tls-on-connect"] + common)
        #expect(smtps.status == 0, "\(smtps.text)")
        Self.expectTLS(server, "smtps")
        #expect(server.log.line(containing: "TLS established: TLSv1.3") != nil)
    }

    @Test(.enabled(if: Tools.hasCurl, "curl is not installed"))
    func curlSSLRequiredAndSMTPS() throws {
        let server = try TestSMTPServer(tls: .required)
        try server.data.write("message.txt", "From: a@outside.test\r\nSubject: by curl over tls\r\n\r\nHello.\r\n")
        for (url, user) in [("smtp://localhost:\(server.port)", "ssl-reqd"), ("smtps://localhost:\(server.smtpsPort ?? 0)", "smtps")] {
            let result = try Tools.curl([url, "--ssl-reqd", "--cacert", server.cacert, "--mail-from", "a@outside.test",
                                         "--mail-rcpt", "\(user)@example.test", "--upload-file", server.data.path + "/message.txt"])
            #expect(result.status == 0, "\(url): \(result.stderr)")
            Self.expectTLS(server, user)
        }
        // Without TLS, required refuses the message at MAIL.
        let plain = try Tools.curl(["smtp://localhost:\(server.port)", "--mail-from", "a@outside.test", "--mail-rcpt", "plain@example.test",
                                    "--upload-file", server.data.path + "/message.txt"])
        #expect(plain.status != 0)
        #expect(server.messages("plain").isEmpty)
        #expect(server.log.line(containing: "530 5.7.0 Must issue a STARTTLS command first") != nil, "\(server.log.all)")
    }

    @Test(.enabled(if: SMTPClientTests.hasPython, "python3 is not installed"))
    func pythonSmtplibStartTLSAndSMTPSSL() throws {
        let server = try TestSMTPServer(tls: .optional)
        let script = """
        import smtplib, ssl
        context = ssl.create_default_context(cafile="\(server.cacert)")
        with smtplib.SMTP("localhost", \(server.port), timeout=10) as s:
            s.ehlo("python.test")
            assert s.has_extn("starttls")
            code, _ = s.starttls(context=context)
            assert code == 220, code
            s.ehlo("python.test")
            assert not s.has_extn("starttls")
            code, text = s.docmd("STARTTLS")
            assert code == 503, (code, text)
            s.sendmail("py@outside.test", ["py@example.test"], "Subject: starttls\\r\\n\\r\\nover tls\\r\\n")
        with smtplib.SMTP_SSL("localhost", \(server.smtpsPort ?? 0), context=context, timeout=10) as s:
            s.sendmail("py@outside.test", ["pyssl@example.test"], "Subject: smtps\\r\\n\\r\\nimplicit\\r\\n")
        """
        let result = try Tools.run("python3", ["-c", script])
        #expect(result.status == 0, "\(result.text) \(result.stderr)")
        Self.expectTLS(server, "py")
        Self.expectTLS(server, "pyssl")
    }

    @Test(.enabled(if: Tools.hasOpenSSL, "openssl is not installed"))
    func opensslStartTLSSmtp() throws {
        let server = try TestSMTPServer(tls: .optional)
        // s_client says EHLO and STARTTLS itself; what it is given follows over TLS.
        let session = "EHLO s-client.test\r\nSTARTTLS\r\nMAIL FROM:<o@outside.test>\r\nRCPT TO:<ossl@example.test>\r\nDATA\r\nSubject: s_client\r\n\r\nhi\r\n.\r\nQUIT\r\n"
        let result = try Tools.run("openssl", ["s_client", "-starttls", "smtp", "-connect", "127.0.0.1:\(server.port)", "-CAfile", server.cacert,
                                               "-verify_return_error", "-servername", "localhost", "-crlf", "-quiet"],
                                   stdin: Array(session.replacingOccurrences(of: "\r\n", with: "\n").utf8), timeout: 20)
        #expect(result.status == 0, "\(result.text) \(result.stderr)")
        #expect(result.text.contains("250 HELP") && !result.text.contains("STARTTLS"), "EHLO over TLS no longer offers it: \(result.text)")
        #expect(result.text.contains("503 5.5.1 TLS already active"), "\(result.text)")
        #expect(result.text.contains("221 2.0.0 Bye"), "\(result.text)")
        Self.expectTLS(server, "ossl")
    }
}
