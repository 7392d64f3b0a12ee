import Foundation
import ServerCore

/// The appserver command serving HTTPS (and HTTP beside it) on free loopback ports, from a
/// temporary site and data folder.
final class HTTPSServer {
    let folder: TemporaryFolder
    let process: ServerProcess
    let httpsPort: UInt16
    let httpPort: UInt16
    var data: String { folder.path + "/data" }
    var cacert: String { data + "/tls/cert.pem" }

    init(_ extra: [String] = [], folder: TemporaryFolder? = nil) throws {
        let folder = try folder ?? HTTPSServer.site()
        self.folder = folder
        process = try ServerProcess(["--services", "http,https", "--listen", "127.0.0.1", "--http-port", "0", "--https-port", "0",
                                     "--www", folder.path + "/www", "--data", folder.path + "/data", "--log-level", "info"] + extra)
        guard let https = process.listeningPort("https"), let http = process.listeningPort("http") else {
            throw HTTPSServerError(description: "the server did not start: \(process.stderr)")
        }
        httpsPort = https
        httpPort = http
    }

    static func site() throws -> TemporaryFolder {
        let folder = try TemporaryFolder("appserver-https")
        try folder.write("www/index.html", "<h1>hello over tls</h1>\n")
        return folder
    }

    var url: String { "https://localhost:\(httpsPort)" }

    /// curl trusting the server's certificate.
    func curl(_ arguments: [String]) throws -> Tools.Result {
        try Tools.curl(["--cacert", cacert] + arguments)
    }

    /// `openssl s_client` sending `request`, with everything it printed.
    func sClient(_ arguments: [String], request: String = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n") throws -> String {
        let result = try Tools.run("openssl", ["s_client", "-connect", "127.0.0.1:\(httpsPort)", "-ign_eof"] + arguments,
                                   stdin: Array(request.utf8), timeout: 20)
        return result.text + result.stderr
    }
}

struct HTTPSServerError: Error, CustomStringConvertible {
    let description: String
}

extension Tools {
    static let hasOpenSSL = find("openssl") != nil
}
