import ServerCore

/// The lines a delivery puts above the message (RFC 5321 4.4): `Return-Path:` with the
/// sender, and `Received:` saying from whom, by whom, how, which transaction and for whom.
/// Over TLS, the protocol is `ESMTPS` (RFC 3848) and a comment names the version and cipher
/// where Postfix puts them.
enum TraceHeader {
    struct Client: Sendable {
        let name: String
        let ip: String
        /// EHLO rather than HELO.
        let extended: Bool
        let tls: TLSInfo?
    }

    static func lines(sender: String, client: Client, hostname: String, id: String, recipient: MailAddress, date: Int) -> [UInt8] {
        let using = client.tls.map { "\t(using \($0.version) with cipher \($0.cipher))\r\n" } ?? ""
        let text = "Return-Path: <\(sender)>\r\n"
            + "Received: from \(client.name) ([\(client.ip)])\r\n"
            + using
            + "\tby \(hostname) with \(client.extended ? "ESMTP" : "SMTP")\(client.tls == nil ? "" : "S") id \(id)\r\n"
            + "\tfor <\(recipient)>; \(rfc5322Date(date))\r\n"
        return Array(text.utf8)
    }

    /// `Wed, 25 Nov 2026 00:44:17 +0000`
    static func rfc5322Date(_ seconds: Int) -> String {
        UTCTime.format(seconds, "%a, %d %b %Y %H:%M:%S +0000")
    }
}
