import Synchronization

/// A certificate and key file pair, as given on the command line.
public struct TLSCertificateFiles: Sendable, Equatable {
    public let certificate: String
    public let key: String

    public init(certificate: String, key: String) {
        self.certificate = certificate
        self.key = key
    }
}

/// A service's current TLS context, rebuilt on reload: a connection accepted (or starting
/// TLS) takes `current`, and keeps that one to its end.
public final class TLSContextHolder: Sendable {
    private let ticketKeys: TLSTicketKeys
    public let configuration: TLSServerContext.Configuration
    private let state: Mutex<TLSServerContext>

    /// Reads every pair (before privileges are dropped: a key may be root's only) and builds
    /// the first context; any failure is `file: why`.
    public convenience init(files: [TLSCertificateFiles], ticketKeys: TLSTicketKeys,
                            configuration: TLSServerContext.Configuration) throws(TLSError) {
        var certificates: [TLSCertificate] = []
        for pair in files {
            certificates.append(try TLSCertificate(certificateFile: pair.certificate, keyFile: pair.key))
        }
        try self.init(certificates: certificates, ticketKeys: ticketKeys, configuration: configuration)
    }

    public init(certificates: [TLSCertificate], ticketKeys: TLSTicketKeys, configuration: TLSServerContext.Configuration) throws(TLSError) {
        self.ticketKeys = ticketKeys
        self.configuration = configuration
        state = Mutex(try TLSServerContext(certificates: certificates, ticketKeys: ticketKeys, configuration: configuration))
    }

    public var current: TLSServerContext { state.withLock { $0 } }

    /// Reads the files again: a pair that no longer loads (unreadable now that privileges are
    /// dropped, or broken) keeps the version loaded before, and is named in the result as
    /// `file: why`. New connections get the new context; open ones keep theirs; tickets
    /// issued before still resume (the ticket keys stay).
    public func reload() -> [String] {
        let old = current
        var problems: [String] = []
        var certificates: [TLSCertificate] = []
        for certificate in old.certificates {
            do throws(TLSError) {
                certificates.append(try TLSCertificate(certificateFile: certificate.certificateFile, keyFile: certificate.keyFile))
            } catch {
                problems.append("\(error) (keeping the certificate loaded before)")
                certificates.append(certificate)
            }
        }
        do throws(TLSError) {
            let rebuilt = try TLSServerContext(certificates: certificates, ticketKeys: ticketKeys, configuration: configuration)
            state.withLock { $0 = rebuilt }
        } catch {
            problems.append("\(error) (keeping the certificates loaded before)")
        }
        return problems
    }
}
