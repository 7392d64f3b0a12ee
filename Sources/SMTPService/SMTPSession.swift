import ServerCore

/// The SMTP conversation as a state machine, sans I/O: each command line goes in, the
/// replies and what to do come out. Sequence is checked before arguments (as aiosmtpd
/// does), and relaying is refused at RCPT, recipient by recipient.
public struct SMTPSession: Sendable {
    /// STARTTLS on the plaintext port (RFC 3207). `required` refuses MAIL before it, which
    /// RFC 3207 forbids for a public MX: for submission or a private relay only.
    public enum TLSPolicy: String, Sendable, CaseIterable {
        case off, optional, required
    }

    public struct Policy: Sendable {
        public var hostname: String
        /// Domains mail is accepted for, lower-cased.
        public var domains: Set<String>
        public var maxMessageSize: Int
        public var maxRecipients: Int
        /// Failed commands allowed before the connection is closed.
        public var maxErrors: Int
        /// Whether STARTTLS is offered (only when the service has a certificate) and required.
        public var tls: TLSPolicy

        public init(hostname: String, domains: [String], maxMessageSize: Int = 25 * 1024 * 1024,
                    maxRecipients: Int = 100, maxErrors: Int = 20, tls: TLSPolicy = .off) {
            self.hostname = hostname
            self.domains = Set(domains.map { $0.lowercased() })
            self.maxMessageSize = maxMessageSize
            self.maxRecipients = maxRecipients
            self.maxErrors = maxErrors
            self.tls = tls
        }
    }

    /// One transaction's sender and recipients.
    public struct Envelope: Sendable, Equatable {
        /// The reverse path without brackets; empty for the null sender `<>`.
        public var sender: String
        public var recipients: [MailAddress] = []
    }

    public enum Action: Equatable, Sendable {
        case reply(SMTPReply)
        /// Read the message that follows (354 has been sent).
        case receiveData
        /// Switch to TLS (220 has been sent); input received after the STARTTLS line was
        /// sent in plaintext and is dropped, never taken as commands (CVE-2011-0411).
        case startTLS
        case close
    }

    public let policy: Policy
    /// The client's EHLO/HELO name, control characters removed (it goes into Received:).
    public private(set) var clientName: String?
    /// Whether the client said EHLO (ESMTP) rather than HELO, for the Received: line.
    public private(set) var extended = false
    public private(set) var envelope: Envelope?
    /// TLS is on, from the first byte (SMTPS) or since STARTTLS; a second STARTTLS is 503.
    public private(set) var secure: Bool
    /// The TLS session once its handshake is done, for Received: and the access lines.
    public private(set) var tls: TLSInfo?
    private var errors = 0

    /// `secure`: TLS from the first byte (implicit TLS, RFC 8314).
    public init(policy: Policy, secure: Bool = false) {
        self.policy = policy
        self.secure = secure
    }

    /// The handshake is done (after STARTTLS, or before the greeting on an SMTPS port).
    public mutating func tlsStarted(_ info: TLSInfo) {
        secure = true
        tls = info
    }

    public var greeting: SMTPReply { .greeting(policy.hostname) }

    public mutating func handle(_ line: [UInt8]) -> [Action] {
        switch SMTPCommand(line: line) {
        case .ehlo(let name), .helo(let name):
            guard !name.isEmpty else { return fail(.ehloNeedsDomain) }
            clientName = String(name.unicodeScalars.filter { $0.value > 0x20 && $0.value != 0x7F }.prefix(255).map(Character.init))
            envelope = nil
            extended = SMTPCommand(line: line) == .ehlo(name)
            return [.reply(extended ? .ehlo(policy.hostname, client: clientName ?? name, maxSize: policy.maxMessageSize,
                                            startTLS: policy.tls != .off && !secure) : .helo(policy.hostname))]
        case .startTLS(let argument):
            guard !secure else { return fail(.tlsActive) }
            guard policy.tls != .off else { return fail(.notImplemented) }
            guard !argument else { return fail(.syntax) }
            // RFC 3207 4.2: whatever the client said before is forgotten; EHLO comes again.
            secure = true
            clientName = nil
            extended = false
            envelope = nil
            return [.reply(.readyForTLS), .startTLS]
        case .mail(let path, let parameters):
            guard clientName != nil else { return fail(.needHelo) }
            guard secure || policy.tls != .required else { return fail(.needTLS) }
            guard envelope == nil else { return fail(.senderAlreadyGiven) }
            if let problem = checkMailParameters(parameters) { return fail(problem) }
            if path == "<>" {
                envelope = Envelope(sender: "")
            } else if let sender = MailAddress(path: path) {
                envelope = Envelope(sender: sender.description)
            } else {
                return fail(.badAddress)
            }
            return [.reply(.senderOK)]
        case .rcpt(let path, let parameters):
            guard envelope != nil else { return fail(.needMail) }
            guard parameters.isEmpty else { return fail(.badParameter) }
            return recipient(path)
        case .data(let argument):
            guard let envelope else { return fail(.needMail) }
            guard !envelope.recipients.isEmpty else { return fail(.needRecipient) }
            guard !argument else { return fail(.syntax) }
            return [.reply(.startData), .receiveData]
        case .rset:
            envelope = nil
            return [.reply(.ok)]
        case .noop:
            return [.reply(.ok)]
        case .quit:
            return [.reply(.bye), .close]
        case .vrfy(let argument):
            return argument ? [.reply(.cannotVerify)] : fail(.syntax)
        case .help:
            return [.reply(.help(startTLS: policy.tls != .off && !secure))]
        case .notImplemented:
            return fail(.notImplemented)
        case .unrecognized:
            return fail(.unrecognized)
        case .syntaxError:
            return fail(.syntax)
        }
    }

    public mutating func lineTooLong() -> [Action] { fail(.lineTooLong) }

    /// The message has been received (and stored, or refused): the next transaction begins.
    public mutating func transactionEnded() {
        envelope = nil
    }

    private mutating func recipient(_ path: Substring) -> [Action] {
        let address: MailAddress
        if path.lowercased() == "<postmaster>", let domain = policy.domains.sorted().first {
            guard let postmaster = MailAddress(path: "<postmaster@\(domain)>") else { return fail(.badAddress) }
            address = postmaster
        } else {
            guard let parsed = MailAddress(path: path) else { return fail(.badAddress) }
            address = parsed
        }
        guard policy.domains.contains(address.domain.lowercased()) else { return fail(.relayDenied) }
        guard address.mailboxName != nil else { return fail(.unsafeMailbox) }
        guard let current = envelope?.recipients, current.count < policy.maxRecipients else {
            return [.reply(.tooManyRecipients)]
        }
        if !current.contains(where: { $0.mailboxName == address.mailboxName && $0.domain.lowercased() == address.domain.lowercased() }) {
            envelope?.recipients.append(address)
        }
        return [.reply(.recipientOK)]
    }

    private func checkMailParameters(_ parameters: [(String, String?)]) -> SMTPReply? {
        for (key, value) in parameters {
            switch (key, value) {
            case ("SIZE", let size?):
                // Digits only, as Postfix: no sign or blank; a number past Int.max is a syntax error too.
                guard let declared = StrictNumber.count(size) else { return .badSize }
                if declared > policy.maxMessageSize { return .tooBig }
            case ("BODY", let body?) where ["7BIT", "8BITMIME"].contains(body.uppercased()):
                continue
            case ("SMTPUTF8", nil):
                continue
            default:
                return .badParameter
            }
        }
        return nil
    }

    /// A failed command; past the error limit the connection ends.
    private mutating func fail(_ reply: SMTPReply) -> [Action] {
        errors += 1
        if errors >= policy.maxErrors { return [.reply(.tooManyErrors), .close] }
        return [.reply(reply)]
    }
}
