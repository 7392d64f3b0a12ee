import ServerCore

/// Everything the console shows at one moment, gathered by the command.
public struct ConsoleState: Sendable {
    /// A mail in a Maildir, as the list shows it; `id` is its path below the mail folder.
    public struct Mail: Sendable, Equatable {
        public let id: String
        public let received: Int
        public let from: String
        public let to: String
        public let subject: String
        public let size: Int

        public init(id: String, received: Int, from: String, to: String, subject: String, size: Int) {
            self.id = id
            self.received = received
            self.from = from
            self.to = to
            self.subject = subject
            self.size = size
        }
    }

    /// The services configured, each with its latest report (nil: none yet, or stale).
    public var services: [(name: String, report: ServiceReport?)]
    /// Requests per second over the last report interval, by service.
    public var rates: [String: Double]
    public var mails: [Mail]

    public init(services: [(name: String, report: ServiceReport?)], rates: [String: Double] = [:], mails: [Mail] = []) {
        self.services = services
        self.rates = rates
        self.mails = mails
    }

    public var connections: [ConnectionSnapshot] { services.flatMap { $0.report?.connections ?? [] } }
    public var zones: [ServiceReport.Zone] { services.flatMap { $0.report?.zones ?? [] } }

    /// The last exchanges of `service` (DNS datagrams, FTP transfers), newest first.
    public func recent(_ service: String) -> [RecentExchanges.Entry] {
        (services.first { $0.name == service }?.report?.recent ?? []).reversed()
    }
}

/// Text from anywhere (the wire above all) made safe in HTML text and attribute values.
public enum HTMLText {
    public static func escaped<Text: StringProtocol>(_ text: Text) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\0": out += "\u{FFFD}"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
