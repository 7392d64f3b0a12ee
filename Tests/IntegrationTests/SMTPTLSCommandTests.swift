import Foundation
import Testing

/// The appserver command's SMTP TLS: the default run offers STARTTLS with the certificate it
/// made, `--smtps-port` adds SMTPS, `--smtp-tls off` offers neither, and bad values are one line.
@Suite(.enabled(if: ServerProcess.binary != nil, "the appserver binary was not found beside the tests"))
struct SMTPTLSCommandTests {
    static func server(_ extra: [String], in folder: TemporaryFolder) throws -> ServerProcess {
        try ServerProcess(["--services", "smtp", "--listen", "127.0.0.1", "--smtp-port", "0", "--data", folder.path + "/data",
                           "--mail-domain", "example.test", "--log-level", "info"] + extra)
    }

    @Test(.enabled(if: SMTPTLSClientTests.hasSwaks, "swaks or its TLS module (libio-socket-ssl-perl) is not installed"))
    func theDefaultRunOffersStartTLSWithItsMadeCertificateAndSMTPSWhenAsked() throws {
        let folder = try TemporaryFolder("appserver-smtptls")
        let server = try Self.server(["--smtps-port", "0"], in: folder)
        let port = try #require(server.listeningPort("smtp"), "\(server.stderr)")
        let smtps = try #require(server.listeningPort("smtps"), "\(server.stdout)")
        let cacert = folder.path + "/data/tls/cert.pem"
        let verify = ["--tls-verify", "--tls-ca-path", cacert, "--tls-sni", "localhost"]
        let starttls = try Tools.run("swaks", ["--server", "127.0.0.1:\(port)", "--to", "new@example.test", "--tls"] + verify)
        #expect(starttls.status == 0, "\(starttls.text)")
        let implicit = try Tools.run("swaks", ["--server", "127.0.0.1:\(smtps)", "--to", "new@example.test", "--tls-on-connect"] + verify)
        #expect(implicit.status == 0, "\(implicit.text)")
        let new = folder.path + "/data/mail/example.test/new/new"
        #expect(pollUntil { ((try? FileManager.default.contentsOfDirectory(atPath: new)) ?? []).count == 2 })
        for name in (try? FileManager.default.contentsOfDirectory(atPath: new)) ?? [] {
            let message = (try? String(contentsOfFile: new + "/" + name, encoding: .utf8)) ?? ""
            #expect(message.contains(" with ESMTPS id "), "\(message)")
        }
        #expect(server.stdout.contains("STARTTLS optional, SMTPS (implicit TLS)"), "\(server.stdout)")
        #expect(pollUntil { server.stdout.contains("smtps 127.0.0.1:") && server.stdout.contains(" tls=TLSv1.3 250 2.0.0 OK") }, "\(server.stdout)")
    }

    @Test func offOffersNoStartTLS() throws {
        let folder = try TemporaryFolder("appserver-smtptls")
        let server = try Self.server(["--smtp-tls", "off"], in: folder)
        let port = try #require(server.listeningPort("smtp"), "\(server.stderr)")
        let client = try RawClient(port: port)
        _ = client.read(atLeast: 5)
        client.send("EHLO c\r\nSTARTTLS\r\nQUIT\r\n")
        let text = String(decoding: client.readAll(), as: UTF8.self)
        #expect(text.contains("250 HELP\r\n502 5.5.1 Command not implemented\r\n221 2.0.0 Bye\r\n") && !text.contains("STARTTLS"), "\(text)")
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/data/tls"), "no certificate is made for nothing")
    }

    @Test func badValuesAreOneLine() throws {
        let folder = try TemporaryFolder("appserver-smtptls")
        let mode = try Self.server(["--smtp-tls", "sometimes"], in: folder)
        #expect(mode.exitStatus() == 1)
        #expect(mode.stderr == "appserver: --smtp-tls: expected optional, required or off, got 'sometimes'\n")
        let both = try Self.server(["--smtp-tls", "off", "--smtps-port", "0"], in: folder)
        #expect(both.exitStatus() == 1)
        #expect(both.stderr == "appserver: --smtps-port: SMTPS is TLS, which smtp-tls off turns off\n")
        let port = try Self.server(["--smtps-port", "99999"], in: folder)
        #expect(port.exitStatus() == 1)
        #expect(port.stderr.hasPrefix("appserver: --smtps-port: expected a number from 0 to 65535"))
    }
}
