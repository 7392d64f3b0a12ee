import Foundation
import Glibc
import ServerCore
import Testing

/// HTTPS against `openssl s_client`: SNI between two certificates, strict ALPN, TLS 1.1
/// refused, resumption before and after a SIGHUP reload, certificates reloaded, and the
/// certificate checks of `appserver check`.
@Suite(.enabled(if: ServerProcess.binary != nil && Tools.hasOpenSSL, "the appserver binary or openssl is missing"))
struct HTTPSOpenSSLTests {
    /// Writes a self-signed pair for `name` as NAME.pem and NAME.key.
    static func pair(_ name: String, in folder: TemporaryFolder) throws -> [String] {
        let (certificate, key) = try TLSSelfSigned.make(names: [name], addresses: [])
        try folder.write(name + ".pem", certificate)
        try folder.write(name + ".key", key)
        return ["--tls-cert", folder.path + "/" + name + ".pem", "--tls-key", folder.path + "/" + name + ".key"]
    }

    @Test func sniChoosesTheCertificateTheNameMatches() throws {
        let folder = try HTTPSServer.site()
        let server = try HTTPSServer(try Self.pair("one.test", in: folder) + Self.pair("two.test", in: folder), folder: folder)
        #expect(try server.sClient(["-servername", "two.test"]).contains("subject=CN = two.test"))
        #expect(try server.sClient(["-servername", "one.test"]).contains("subject=CN = one.test"))
        #expect(try server.sClient(["-servername", "other.test"]).contains("subject=CN = one.test"))
    }

    @Test func alpnIsStrictAndTLS11IsRefused() throws {
        let server = try HTTPSServer()
        let h2 = try server.sClient(["-alpn", "h2"])
        #expect(h2.contains("no application protocol"))
        #expect(!h2.contains("HTTP/1.1 200 OK"))
        let http11 = try server.sClient(["-alpn", "h2,http/1.1"])
        #expect(http11.contains("ALPN protocol: http/1.1") && http11.contains("HTTP/1.1 200 OK"))
        let old = try server.sClient(["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"])
        #expect(old.contains("alert protocol version") || old.contains("no protocols available"))
        #expect(!old.contains("HTTP/1.1 200 OK"))
    }

    @Test(arguments: ["-tls1_3", "-tls1_2"]) func sessionsResumeAcrossAReload(version: String) throws {
        let server = try HTTPSServer()
        let session = server.folder.path + "/session.pem"
        #expect(try server.sClient([version, "-sess_out", session]).contains("HTTP/1.1 200 OK"))
        let resumed = try server.sClient([version, "-sess_in", session])
        #expect(resumed.contains("Reused, TLS") && resumed.contains("HTTP/1.1 200 OK"))
        server.process.signal(SIGHUP)
        #expect(server.process.logged("reloaded tls certificates"))
        #expect(try server.sClient([version, "-sess_in", session]).contains("Reused, TLS"), "a ticket issued before the reload")
    }

    @Test func sighupReloadsCertificatesAndKeepsThemWhenBroken() throws {
        let folder = try HTTPSServer.site()
        let flags = try Self.pair("before.test", in: folder)
        let server = try HTTPSServer(flags, folder: folder)
        #expect(try server.sClient([]).contains("subject=CN = before.test"))
        let (certificate, key) = try TLSSelfSigned.make(names: ["after.test"], addresses: [])
        try folder.write("before.test.pem", certificate)
        try folder.write("before.test.key", key)
        server.process.signal(SIGHUP)
        #expect(server.process.logged("reloaded tls certificates"))
        #expect(try server.sClient([]).contains("subject=CN = after.test"))
        try folder.write("before.test.key", "not a key\n")
        server.process.signal(SIGHUP)
        #expect(server.process.logged("reload: \(folder.path)/before.test.key: no private key in it"))
        #expect(server.process.logged("reloaded tls certificates (1 with errors)"))
        #expect(try server.sClient([]).contains("subject=CN = after.test"))
    }

    @Test func checkLoadsTheCertificates() throws {
        let folder = try HTTPSServer.site()
        func check(_ extra: [String]) throws -> ServerProcess {
            try ServerProcess(["check", "--services", "https", "--listen", "127.0.0.1", "--www", folder.path + "/www",
                               "--data", folder.path + "/data"] + extra)
        }
        let fresh = try check([])
        #expect(fresh.exitStatus() == 0)
        #expect(fresh.stdout.contains("serve makes a self-signed one in \(folder.path)/data/tls"))
        #expect(access(folder.path + "/data/tls", F_OK) != 0, "check writes nothing")
        let good = try check(try Self.pair("good.test", in: folder))
        #expect(good.exitStatus() == 0, "\(good.stderr)")
        try folder.write("bad.pem", "junk\n")
        let bad = try check(["--tls-cert", folder.path + "/bad.pem", "--tls-key", folder.path + "/good.test.key"])
        #expect(bad.exitStatus() == 1)
        #expect(bad.stderr == "appserver: \(folder.path)/bad.pem: no certificate in it (expected PEM, BEGIN CERTIFICATE)\n")
        let unpaired = try check(["--tls-cert", folder.path + "/bad.pem"])
        #expect(unpaired.exitStatus() == 1)
        #expect(unpaired.stderr == "appserver: tls-cert and tls-key go in pairs: 1 certificate(s) but 0 key(s)\n")
    }
}
