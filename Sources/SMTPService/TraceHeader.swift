import ServerCore

/// The lines a delivery puts above the message (RFC 5321 4.4): `Return-Path:` with the
/// sender, and `Received:` saying from whom, by whom, how, which transaction and for whom.
enum TraceHeader {
    static func lines(sender: String, clientName: String, clientIP: String, hostname: String, extended: Bool,
                      id: String, recipient: MailAddress, date: Int) -> [UInt8] {
        let text = "Return-Path: <\(sender)>\r\n"
            + "Received: from \(clientName) ([\(clientIP)])\r\n"
            + "\tby \(hostname) with \(extended ? "ESMTP" : "SMTP") id \(id)\r\n"
            + "\tfor <\(recipient)>; \(rfc5322Date(date))\r\n"
        return Array(text.utf8)
    }

    /// `Wed, 25 Nov 2026 00:44:17 +0000`
    static func rfc5322Date(_ seconds: Int) -> String {
        UTCTime.format(seconds, "%a, %d %b %Y %H:%M:%S +0000")
    }
}
