import Foundation
import ServerCore

/// What the secondary tests share: a temp folder with a zone, a free port, a poll with a
/// deadline, and NSD run in the foreground on its own config.
struct SecondaryFixture {
    let root: String

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("secondary-\(UUID().uuidString)").path
        for sub in ["zones", "data", "nsd"] {
            try FileManager.default.createDirectory(atPath: root + "/" + sub, withIntermediateDirectories: true)
        }
    }

    var zones: String { root + "/zones" }
    var data: String { root + "/data" }
    var nsd: String { root + "/nsd" }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    /// example.test with its one NS the SOA's MNAME, so NOTIFY goes only to the extras given.
    static func zoneText(serial: Int, www: String) -> String {
        "$TTL 300\n@ IN SOA ns1.example.test. hostmaster.example.test. \(serial) 3600 600 86400 60\n"
            + "@ IN NS ns1.example.test.\nns1 IN A 192.0.2.53\nwww IN A \(www)\nmail IN MX 10 www\n"
            + "txt IN TXT \"secondary test\"\nv6 IN AAAA 2001:db8::1\n"
    }

    func writeZone(serial: Int, www: String, in folder: String? = nil) throws {
        try SecondaryFixture.zoneText(serial: serial, www: www)
            .write(toFile: (folder ?? zones) + "/example.test.zone", atomically: true, encoding: .utf8)
    }

    static func freePort() throws -> UInt16 {
        try FreePort.common(on: [IPAddress("127.0.0.1")!], datagrams: true)
    }

    /// dig +short against 127.0.0.1:port, lines sorted.
    static func short(_ port: UInt16, _ name: String, _ type: String = "A") -> String {
        let result = try? Tools.run("dig", ["@127.0.0.1", "-p", "\(port)", "+time=2", "+tries=1", "+short", name, type], timeout: 10)
        return (result?.text ?? "").split(separator: "\n").sorted().joined(separator: "\n")
    }

    /// Polls `body` until it is true or `timeout` seconds pass.
    static func eventually(timeout: Double = 15, _ body: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if body() { return true }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return body()
    }

    static let nsdBinary = Tools.find("nsd")
    static let canRunNSD = nsdBinary != nil && Tools.find("perl") != nil

    /// NSD in the foreground as this user, its state in `nsd`, no control socket; `zone` is
    /// the zone: clause's body.
    func startNSD(port: UInt16, zone: String, keys: String = "") throws -> ServerProcess {
        let conf = """
        server:
          port: \(port)
          ip-address: 127.0.0.1
          zonesdir: "\(nsd)"
          pidfile: "\(nsd)/nsd.pid"
          xfrdfile: "\(nsd)/xfrd.state"
          xfrdir: "\(nsd)"
          zonelistfile: "\(nsd)/zone.list"
          database: ""
          username: ""
          chroot: ""
          logfile: "\(nsd)/nsd.log"
          verbosity: 2
          xfrd-reload-timeout: 0
        remote-control:
          control-enable: no
        \(keys)
        zone:
          name: example.test
          zonefile: example.test.zone
        \(zone)
        """
        try conf.write(toFile: nsd + "/nsd.conf", atomically: true, encoding: .utf8)
        // A test thread's signal mask (every signal blocked, as Dispatch's threads have it) is
        // inherited through exec: NSD would never see SIGHUP or SIGTERM. Perl (essential on
        // Debian) clears it first.
        let clearMask = "use POSIX; sigprocmask(SIG_SETMASK, POSIX::SigSet->new); exec @ARGV or die"
        return try ServerProcess(["-e", clearMask, SecondaryFixture.nsdBinary ?? "nsd", "-d", "-c", nsd + "/nsd.conf"],
                                 binary: Tools.find("perl"))
    }

    /// The answers both servers give for the zone's names, to compare.
    static func answers(_ port: UInt16) -> [String] {
        [("example.test", "SOA"), ("example.test", "NS"), ("www.example.test", "A"), ("example.test", "MX"),
         ("mail.example.test", "MX"), ("txt.example.test", "TXT"), ("v6.example.test", "AAAA"), ("ns1.example.test", "A")]
            .map { short(port, $0.0, $0.1) }
    }
}
