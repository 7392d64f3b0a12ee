import AdminService
import ServerCore

/// The admin listener's parsers of outside bytes: a mail as the console reads it (MIME,
/// bounded), and a service's report (only a child of the same supervisor may send one,
/// but it is checked all the same). The mail page must carry no markup from the input.
enum AdminTarget {
    static let target = FuzzTarget(name: "admin", summary: "MIME mail parser and console page, service report codec") {
        run
    }

    static func run(_ data: UnsafeRawBufferPointer) {
        let bytes = Array(data)
        let message = MIMEMessage(bytes)
        require(message.attachments.count <= 100, "\(message.attachments.count) attachments")
        let page = ConsolePage.mail(message, id: "fuzz")
        require(!page.contains("<script"), "markup from the mail reached the page")
        if let report = ReportCodec.decode(bytes) {
            require(ReportCodec.decode(ReportCodec.encode(report)) != nil, "a decoded report does not read back")
        }
    }
}
