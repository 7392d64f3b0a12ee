import Foundation
import Glibc
import Testing

/// The admin listener and TLS (issue 19): HTTPS's handshakes in /metrics, and the listener
/// itself over HTTPS beyond loopback, with the certificates HTTPS uses.
@Suite(.enabled(if: ServerProcess.binary != nil && Tools.hasCurl, "the appserver binary or curl is missing"))
struct AdminTLSTests {
    @Test(.enabled(if: AdminTests.hasPrometheusClient, "python3-prometheus-client not installed"))
    func httpsHandshakesAndTheirFailuresAreCounted() throws {
        let server = try HTTPSServer(["--admin-listen", "127.0.0.1:0"])
        defer { server.process.signal(SIGTERM); _ = server.process.exitStatus() }
        let admin = try #require(server.process.listeningPort("admin"))
        for _ in 0..<2 { #expect(try server.curl([server.url + "/"]).status == 0) }
        // A byte that begins neither a TLS record nor a request, then a record that is no
        // ClientHello: both end before a handshake completes.
        for garbage: [UInt8] in [Array("\u{1}garbage\r\n".utf8), [22, 3, 1, 0, 4] + Array("junk".utf8)] {
            let client = try RawClient(port: server.httpsPort)
            client.send(garbage)
            #expect(pollUntil(within: 5) { client.isClosedByPeer() })
        }
        let wanted = ["appserver_https_tls_handshakes_total{}": 2.0, "appserver_https_tls_handshake_failures_total{}": 2.0,
                      "appserver_https_requests_total{code=\"2xx\",method=\"GET\"}": 2.0]
        var samples: [String: Double] = [:]
        // The HTTPS child reports to the admin child once a second.
        let counted = try pollUntil(within: 10) {
            samples = try AdminTests.samples(try Tools.curl(["-s", "http://127.0.0.1:\(admin)/metrics"]).text)
            return wanted.allSatisfy { samples[$0.key] == $0.value }
        }
        #expect(counted, "\(samples.filter { $0.key.hasPrefix("appserver_https_") })")
    }

    /// Beyond loopback, without HTTPS among the services: the supervisor makes the
    /// certificate, the admin child serves HTTPS with it; plain HTTP there gets nginx's 400.
    @Test func beyondLoopbackTheAdminListenerSpeaksHTTPSWithTheSameCertificate() throws {
        let folder = try HTTPSServer.site()
        let server = try ServerProcess(["--services", "http", "--listen", "127.0.0.1", "--http-port", "0", "--www", folder.path + "/www",
                                        "--data", folder.path + "/data", "--admin-listen", "0.0.0.0:0", "--admin-user", AdminTLSTests.user])
        defer { server.signal(SIGTERM); _ = server.exitStatus() }
        let port = try #require(server.listeningPort("admin", address: "0.0.0.0"))
        let url = "https://localhost:\(port)/healthz", cacert = folder.path + "/data/tls/cert.pem"
        #expect(pollUntil(within: 10) { (try? Tools.curl(["--cacert", cacert, "-u", "ops:secret", url]).text) == "ok\n" })
        let denied = try Tools.curl(["--cacert", cacert, "-s", "-o", "/dev/null", "-w", "%{http_code}", url])
        #expect(denied.text == "401")
        let plain = try Tools.curl(["-s", "-u", "ops:secret", "http://127.0.0.1:\(port)/healthz"])
        #expect(plain.text.contains("The plain HTTP request was sent to HTTPS port"), "\(plain.text)")
        #expect(server.stdout.contains("self-signed certificate \(cacert)"), "\(server.stdout)")
    }

    /// The loopback default stays plain HTTP, with or without a user.
    @Test func onLoopbackTheAdminListenerStaysPlainHTTP() throws {
        let folder = try HTTPSServer.site()
        let server = try ServerProcess(["--services", "http", "--listen", "127.0.0.1", "--http-port", "0", "--www", folder.path + "/www",
                                        "--data", folder.path + "/data", "--admin-listen", "127.0.0.1:0", "--admin-user", AdminTLSTests.user,
                                        "--single-process"])
        defer { server.signal(SIGTERM); _ = server.exitStatus() }
        let port = try #require(server.listeningPort("admin"))
        #expect(try Tools.curl(["-u", "ops:secret", "http://127.0.0.1:\(port)/healthz"]).text == "ok\n")
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/data/tls"))
    }

    /// "secret", made by openssl passwd -6 (as in PasswordFileTests).
    static let user = "ops:$6$/LqNUgmSLgzb392/$2n92MxFUEHZtITOTkBJgwrfHHjFfZfX8joqNe6DZYoJ7PPlgeSz4iXBrUJIhZ60.qlf.vuTL9Q5ehK0LaxiPl1"
}
