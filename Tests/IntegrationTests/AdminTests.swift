import Foundation
import Glibc
import Testing

/// The admin listener (issue 19): metrics read by a real Prometheus parser, the console in
/// real headless Chromium, the log file under logrotate, and auth beyond loopback.
@Suite(.enabled(if: ServerProcess.binary != nil, "the appserver binary was not found beside the tests"))
struct AdminTests {
    static let python = "/usr/bin/python3"

    static func start(_ folder: TemporaryFolder, singleProcess: Bool, extra: [String] = []) throws -> ServerProcess {
        try folder.write("www/index.html", "hello\n")
        try folder.write("ftp-users", "")
        return try ServerProcess(["--listen", "127.0.0.1", "--http-port", "0", "--https-port", "0", "--dns-port", "0", "--dot-port", "0",
                                  "--smtp-port", "0", "--ftp-port", "0",
                                  "--www", folder.path + "/www", "--zones", TestDNSServer.shippedZones, "--data", folder.path + "/data",
                                  "--ftp-users", folder.path + "/ftp-users", "--admin-listen", "127.0.0.1:0"]
                                 + (singleProcess ? ["--single-process"] : []) + extra)
    }

    /// Samples as `name{label="v",...} value` lines, parsed by prometheus_client.
    static func samples(_ text: String) throws -> [String: Double] {
        let script = """
        import sys
        from prometheus_client.parser import text_string_to_metric_families
        for family in text_string_to_metric_families(sys.stdin.read()):
            for s in family.samples:
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
                print(f"{s.name}{{{labels}}} {s.value}")
        """
        let result = try Tools.run(python, ["-c", script], stdin: Array(text.utf8))
        guard result.status == 0 else { throw ParseFailure(text: result.stderr) }
        var samples: [String: Double] = [:]
        for line in result.text.split(separator: "\n") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    struct ParseFailure: Error { let text: String }

    static var hasPrometheusClient: Bool {
        (try? Tools.run(python, ["-c", "import prometheus_client"]).status) == 0
    }

    @Test(.enabled(if: AdminTests.hasPrometheusClient, "python3-prometheus-client not installed"))
    func countersMatchTheTrafficOfEveryServiceAsPrometheusClientReadsThem() throws {
        let folder = try TemporaryFolder()
        let server = try Self.start(folder, singleProcess: false)
        let http = try #require(server.listeningPort("http")), dns = try #require(server.listeningPort("dns, tcp and udp"))
        let smtp = try #require(server.listeningPort("smtp")), ftp = try #require(server.listeningPort("ftp"))
        let admin = try #require(server.listeningPort("admin"))
        defer { server.signal(SIGTERM); _ = server.exitStatus() }
        #expect(try pollUntil(within: 10) { try Tools.curl(["-s", "http://127.0.0.1:\(admin)/readyz"]).text == "ready\n" })

        for _ in 0..<3 { #expect(try Tools.curl(["-s", "http://127.0.0.1:\(http)/"]).text == "hello\n") }
        _ = try Tools.curl(["-s", "http://127.0.0.1:\(http)/missing"])
        for _ in 0..<2 { #expect(udpExchange(dnsQuery("ns1.example.test."), port: dns) != nil) }
        let mail = try RawClient(port: smtp)
        mail.send("EHLO t\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n")
        #expect(String(decoding: mail.readAll(), as: UTF8.self).contains("250 2.0.0"))
        let login = try RawClient(port: ftp)
        login.send("USER nobody-here\r\nPASS wrong\r\nQUIT\r\n")
        #expect(String(decoding: login.readAll(), as: UTF8.self).contains("530"))

        var samples: [String: Double] = [:]
        let counted = try pollUntil(within: 10) {
            samples = try Self.samples(try Tools.curl(["-s", "http://127.0.0.1:\(admin)/metrics"]).text)
            return samples["appserver_ftp_logins_total{result=\"failed\"}"] == 1 && samples["appserver_smtp_messages_total{result=\"accepted\"}"] == 1
                && samples["appserver_http_requests_total{code=\"4xx\",method=\"GET\"}"] == 1
                && samples["appserver_dns_requests_total{proto=\"udp\",type=\"A\"}"] == 2
        }
        #expect(counted, "\(samples.filter { $0.value != 0 })")
        #expect(samples["appserver_http_requests_total{code=\"2xx\",method=\"GET\"}"] == 3)
        #expect(samples["appserver_http_response_bytes_total{}"] ?? 0 >= 18)
        #expect(samples["appserver_http_connections_accepted_total{}"] == 4)
        #expect(samples["appserver_dns_responses_total{rcode=\"NOERROR\"}"] == 2)
        #expect(samples["appserver_smtp_sessions_total{}"] == 1)
        #expect(samples["appserver_smtp_bytes_total{}"] ?? 0 > 0)
        #expect(samples["appserver_http_request_duration_seconds_count{}"] == 4)
        #expect(samples["appserver_dns_zone_serial{zone=\"example.test.\"}"] ?? 0 > 0)
    }

    @Test(.enabled(if: Tools.find("chromium") != nil && Tools.find("swaks") != nil, "chromium or swaks not installed"))
    func theConsoleInChromiumListsAnOpenConnectionByItsFourTupleAndAMailSubjectAsText() throws {
        let chromium = try #require(Tools.find("chromium")), swaks = try #require(Tools.find("swaks"))
        let folder = try TemporaryFolder()
        let server = try Self.start(folder, singleProcess: true)
        let http = try #require(server.listeningPort("http")), smtp = try #require(server.listeningPort("smtp"))
        let admin = try #require(server.listeningPort("admin"))
        defer { server.signal(SIGTERM); _ = server.exitStatus() }
        let kept = try RawClient(port: http)
        kept.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(String(decoding: kept.read(atLeast: 1), as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        let sent = try Tools.run(swaks, ["--server", "127.0.0.1:\(smtp)", "--to", "bob@example.test", "--from", "a@b.test",
                                        "--header", "Subject: <script>alert(1)</script> hello", "--body", "text"])
        #expect(sent.status == 0, "\(sent.stderr)")
        let tuple = "127.0.0.1:\(kept.localPort)"
        let url = "http://127.0.0.1:\(admin)/"
        #expect(try pollUntil(within: 10) { try Tools.curl(["-s", url + "api/state"]).text.contains(tuple) })
        let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(folder.path)/chromium"]
        let dom = try Tools.run(chromium, flags + ["--virtual-time-budget=3000", "--dump-dom", url], timeout: 90).text
        #expect(dom.contains("<td>http</td><td>\(tuple)</td><td>127.0.0.1:\(http)</td><td>open</td>"), "\(dom)")
        #expect(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt; hello"), "\(dom)")
        #expect(!dom.contains("<script>alert"))
        let shot = folder.path + "/console.png"
        _ = try Tools.run(chromium, flags + ["--window-size=1200,900", "--screenshot=\(shot)", url], timeout: 90)
        #expect(FileManager.default.fileExists(atPath: shot))
    }

    @Test func aRenamedLogFileAndSIGUSR1PutNewLinesInTheNewFileAndLoseNone() throws {
        let folder = try TemporaryFolder()
        let log = folder.path + "/access.log"
        let server = try Self.start(folder, singleProcess: false, extra: ["--log-file", log, "--log-format", "json"])
        let announced = try Regex(#"listening on 127\.0\.0\.1:(\d+) \(http\)"#)
        var port: UInt16?
        _ = pollUntil(within: 20) {
            port = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").firstMatch(of: announced).flatMap { $0.output[1].substring.flatMap { UInt16($0) } }
            return port != nil
        }
        let http = try #require(port)
        defer { server.signal(SIGTERM); _ = server.exitStatus() }
        func lines(_ path: String) -> [String] {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init).filter { $0.contains("\"service\":\"http\"") }
        }
        for n in 0..<20 { _ = try Tools.curl(["-s", "http://127.0.0.1:\(http)/before-\(n)"]) }
        #expect(pollUntil(within: 5) { lines(log).count == 20 })
        #expect(rename(log, log + ".1") == 0)
        // As logrotate's `create` does: the new file with the old one's owner (the run user,
        // who may not create files in this root-owned folder).
        var old = stat()
        #expect(stat(log + ".1", &old) == 0 && FileManager.default.createFile(atPath: log, contents: nil) && chown(log, old.st_uid, old.st_gid) == 0)
        server.signal(SIGUSR1)
        #expect(pollUntil(within: 5) { FileManager.default.fileExists(atPath: log) })
        for n in 0..<20 { _ = try Tools.curl(["-s", "http://127.0.0.1:\(http)/after-\(n)"]) }
        #expect(pollUntil(within: 5) { lines(log).count == 20 })
        #expect(lines(log + ".1").count == 20 && lines(log + ".1").allSatisfy { $0.contains("/before-") })
        #expect(lines(log).allSatisfy { $0.contains("/after-") && $0.contains("\"remote_addr\":\"127.0.0.1\"") && $0.contains("\"local_port\":\(http)") })
    }

    @Test func beyondLoopbackTheAdminListenerNeedsItsUser() throws {
        let folder = try TemporaryFolder()
        let refused = try Self.start(folder, singleProcess: true, extra: ["--admin-listen", "0.0.0.0:0"])
        #expect(refused.exitStatus() == 1)
        #expect(refused.stderr.contains("beyond loopback: it needs --admin-user"), "\(refused.stderr)")
        // "secret", made by openssl passwd -6 (as in PasswordFileTests).
        let user = "ops:$6$/LqNUgmSLgzb392/$2n92MxFUEHZtITOTkBJgwrfHHjFfZfX8joqNe6DZYoJ7PPlgeSz4iXBrUJIhZ60.qlf.vuTL9Q5ehK0LaxiPl1"
        let server = try Self.start(folder, singleProcess: true, extra: ["--admin-listen", "0.0.0.0:0", "--admin-user", user])
        defer { server.signal(SIGTERM); _ = server.exitStatus() }
        let port = try #require(server.listeningPort("admin", timeout: 20, address: "0.0.0.0"))
        // Over HTTPS, with the certificate HTTPS made (see AdminTLSTests).
        let url = "https://127.0.0.1:\(port)/metrics", trust = ["--cacert", folder.path + "/data/tls/cert.pem"]
        #expect(try Tools.curl(trust + ["-s", "-o", "/dev/null", "-w", "%{http_code}", url]).text == "401")
        #expect(try Tools.curl(trust + ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-u", "ops:wrong", url]).text == "401")
        #expect(try Tools.curl(trust + ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-u", "ops:secret", url]).text == "200")
    }
}
