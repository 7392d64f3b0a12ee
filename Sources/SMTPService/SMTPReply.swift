/// A reply: code, RFC 3463 enhanced status code, and one or more lines of text.
public struct SMTPReply: Equatable, Sendable {
    public let code: Int
    public let enhanced: String?
    public let lines: [String]

    public init(_ code: Int, _ enhanced: String?, _ lines: String...) {
        self.init(code, enhanced, lines: lines)
    }

    public init(_ code: Int, _ enhanced: String?, lines: [String]) {
        self.code = code
        self.enhanced = enhanced
        self.lines = lines
    }

    /// `250-first` ... `250 last`, each line with the enhanced code (RFC 2034 says every line).
    public var bytes: [UInt8] {
        var out = ""
        for (index, line) in lines.enumerated() {
            out += "\(code)\(index == lines.count - 1 ? " " : "-")"
            if let enhanced { out += enhanced + " " }
            out += line + "\r\n"
        }
        return Array(out.utf8)
    }

    static func greeting(_ host: String) -> SMTPReply { SMTPReply(220, nil, "\(host) ESMTP appserver") }
    static func ehlo(_ host: String, client: String, maxSize: Int, startTLS: Bool) -> SMTPReply {
        SMTPReply(250, nil, lines: ["\(host) greets \(client)", "SIZE \(maxSize)", "PIPELINING", "8BITMIME",
                                    "ENHANCEDSTATUSCODES", "SMTPUTF8"] + (startTLS ? ["STARTTLS"] : []) + ["HELP"])
    }
    static func helo(_ host: String) -> SMTPReply { SMTPReply(250, nil, host) }
    static let ok = SMTPReply(250, "2.0.0", "OK")
    static let senderOK = SMTPReply(250, "2.1.0", "Sender OK")
    static let recipientOK = SMTPReply(250, "2.1.5", "Recipient OK")
    static let startData = SMTPReply(354, nil, "End data with <CR><LF>.<CR><LF>")
    static func queued(_ id: String) -> SMTPReply { SMTPReply(250, "2.0.0", "OK: queued as \(id)") }
    static let readyForTLS = SMTPReply(220, "2.0.0", "Ready to start TLS")
    static let bye = SMTPReply(221, "2.0.0", "Bye")
    static let cannotVerify = SMTPReply(252, "2.5.2", "Cannot VRFY user, but will accept message and attempt delivery")
    /// HELP names STARTTLS only where EHLO offers it.
    static func help(startTLS: Bool) -> SMTPReply {
        SMTPReply(214, "2.0.0", lines: ["Commands: EHLO HELO \(startTLS ? "STARTTLS " : "")MAIL RCPT DATA RSET NOOP QUIT VRFY HELP",
                                        "Mail is accepted for local domains only"])
    }
    static let unrecognized = SMTPReply(500, "5.5.1", "Command unrecognized")
    static let lineTooLong = SMTPReply(500, "5.5.2", "Line too long")
    static let notImplemented = SMTPReply(502, "5.5.1", "Command not implemented")
    static let syntax = SMTPReply(501, "5.5.4", "Syntax error in parameters or arguments")
    static let ehloNeedsDomain = SMTPReply(501, "5.5.4", "EHLO and HELO need a domain or address literal")
    static let badSize = SMTPReply(501, "5.5.4", "Bad message size syntax")
    static let badParameter = SMTPReply(555, "5.5.4", "Unsupported MAIL or RCPT parameter")
    static let needHelo = SMTPReply(503, "5.5.1", "Send EHLO or HELO first")
    static let needMail = SMTPReply(503, "5.5.1", "Need MAIL command")
    static let needRecipient = SMTPReply(503, "5.5.1", "Need RCPT command")
    static let tlsActive = SMTPReply(503, "5.5.1", "TLS already active")
    static let needTLS = SMTPReply(530, "5.7.0", "Must issue a STARTTLS command first")
    static let senderAlreadyGiven = SMTPReply(503, "5.5.1", "Sender already specified")
    static let badAddress = SMTPReply(501, "5.1.3", "Bad address syntax")
    static let unsafeMailbox = SMTPReply(553, "5.1.3", "Mailbox name not allowed")
    static let relayDenied = SMTPReply(554, "5.7.1", "Relay access denied")
    static let tooManyRecipients = SMTPReply(452, "4.5.3", "Too many recipients")
    static let tooBig = SMTPReply(552, "5.3.4", "Message size exceeds fixed limit")
    static let deliveryFailed = SMTPReply(451, "4.3.0", "Local delivery failed, try again later")
    static let tooManyErrors = SMTPReply(421, "4.7.0", "Too many errors, closing connection")
    static let busy = SMTPReply(421, "4.3.2", "Too many connections, try again later")
    /// The blocking pool is full, so the message cannot be delivered now; the connection closes.
    static let overloaded = SMTPReply(421, "4.3.2", "System busy, try again later")
    static let shuttingDown = SMTPReply(421, "4.3.2", "Service shutting down, try again later")
    static let timedOut = SMTPReply(421, "4.4.2", "Timeout exceeded, closing connection")
}
