import Glibc

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
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        var buffer = [CChar](repeating: 0, count: 40)
        let n = strftime(&buffer, buffer.count, "%a, %d %b %Y %H:%M:%S +0000", &parts)
        return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
