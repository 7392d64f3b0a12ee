import ServerCore

/// The certificates of the TLS services: the pairs given, else the self-signed one in
/// DATA/tls, made at first start (for localhost, this host's name and the listen
/// addresses) and reused after. Read here, before privileges are dropped.
enum TLSSetup {
    /// Whether any service to run serves TLS, and so needs the certificates.
    static func wanted(_ settings: Settings) -> Bool {
        settings.services.contains("https") || settings.services.contains("dns") && settings.dotPort != nil
            || settings.services.contains("smtp") && settings.smtpTLS != .off
            || settings.services.contains("ftp") && settings.ftpTLS != .off
            || settings.services.contains("admin") && settings.adminOverTLS
    }

    /// The pairs to load and what to say about them; nil files when `check` finds no
    /// certificate yet (serve would make one, check writes nothing).
    static func certificates(_ settings: Settings, making: Bool) throws(TLSError) -> (files: [TLSCertificateFiles]?, note: String) {
        if !settings.tlsPairs.isEmpty {
            return (settings.tlsPairs, "tls: certificate\(settings.tlsPairs.count == 1 ? "" : "s") \(settings.tlsPairs.map(\.certificate).joined(separator: ", "))")
        }
        let folder = settings.data + "/tls"
        // The admin listener's own address too, when it speaks HTTPS.
        var addresses: [IPAddress] = []
        for ip in settings.listen + (settings.adminOverTLS ? [settings.adminListen?.ip].compactMap { $0 } : []) {
            // A wildcard names no address a client uses: the loopback ones stand in for it.
            let named = ip == .v4(0) ? IPAddress("127.0.0.1")! : ip == .v6(0, 0) ? IPAddress("::1")! : ip
            if !addresses.contains(named) { addresses.append(named) }
        }
        var names = ["localhost"]
        if Startup.hostname != "localhost" { names.append(Startup.hostname) }
        guard making else {
            let existing = TLSCertificateFiles(certificate: folder + "/cert.pem", key: folder + "/key.pem")
            guard LocalFiles.read(existing.certificate) != nil else {
                return (nil, "tls: no certificate given; serve makes a self-signed one in \(folder)")
            }
            return ([existing], "tls: self-signed certificate \(existing.certificate)")
        }
        let (files, made) = try TLSSelfSigned.ensure(folder: folder, names: names, addresses: addresses)
        let fingerprint = try TLSCertificate(certificateFile: files.certificate, keyFile: files.key).fingerprint
        return ([files], "tls: \(made ? "made a" : "using the") self-signed certificate \(files.certificate) (SHA-256 \(fingerprint))")
    }
}
