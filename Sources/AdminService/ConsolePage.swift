import ServerCore

/// The console, rendered whole on the server (so it reads without JavaScript), and the
/// same data as JSON for the script that refreshes it every second. Everything that came
/// from the wire or from a mail goes through `HTMLText` or `JSONText`, never as markup.
public enum ConsolePage {
    public static func html(_ state: ConsoleState) -> String {
        var page = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>appserver console</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <noscript><meta http-equiv="refresh" content="5"></noscript>
        <link rel="stylesheet" href="/console.css"><script src="/console.js" defer></script></head>
        <body><h1>appserver</h1>
        <section><h2>Services</h2><table id="services"><thead><tr><th>service</th><th>state</th><th>requests/s</th><th>requests</th><th>last minute</th></tr></thead><tbody>
        """
        for (name, report) in state.services {
            page += row([name, report.map { $0.ready ? "serving" : "starting" } ?? "no report",
                         rate(state.rates[name]), report.map { String($0.requests) } ?? "-", ""], attributes: " data-service=\"\(HTMLText.escaped(name))\"")
        }
        page += "</tbody></table></section>\n"
        page += table("connections", "Open connections", ["protocol", "client", "server", "state", "age", "bytes in", "bytes out"],
                      state.connections.map { [$0.service, "\($0.id.remote)", "\($0.id.local)", $0.state, age($0.ageSeconds), "\($0.bytesIn)", "\($0.bytesOut)"] })
        page += table("datagrams", "Recent DNS datagrams", ["time", "client", "server", "query", "bytes"],
                      state.recent("dns").map { [UTCTime.format($0.time, "%H:%M:%S"), "\($0.client.remote)", "\($0.client.local)", $0.summary, "\($0.bytes)"] })
        page += table("zones", "Zones", ["zone", "serial"], state.zones.map { [$0.name, String($0.serial)] })
        page += "<section><h2>Mail</h2><table id=\"mails\"><thead><tr><th>received</th><th>from</th><th>to</th><th>subject</th><th>size</th></tr></thead><tbody>"
        for mail in state.mails {
            page += "<tr><td>\(UTCTime.format(mail.received, "%Y-%m-%d %H:%M:%S"))</td><td>\(HTMLText.escaped(mail.from))</td><td>\(HTMLText.escaped(mail.to))</td>"
                + "<td><a href=\"/mail?id=\(HTMLText.escaped(percentEncoded(mail.id)))\">\(HTMLText.escaped(mail.subject.isEmpty ? "(no subject)" : mail.subject))</a></td><td>\(mail.size)</td></tr>"
        }
        page += "</tbody></table></section>\n"
        page += table("transfers", "Recent FTP transfers", ["time", "client", "transfer", "bytes"],
                      state.recent("ftp").map { [UTCTime.format($0.time, "%H:%M:%S"), "\($0.client.remote)", $0.summary, "\($0.bytes)"] })
        page += "<p><a href=\"/metrics\">metrics</a> · <a href=\"/healthz\">healthz</a> · <a href=\"/readyz\">readyz</a></p></body></html>\n"
        return page
    }

    public static func json(_ state: ConsoleState) -> String {
        func object(_ pairs: [(String, String)]) -> String { "{" + JSONText.fields(pairs) + "}" }
        func array(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }
        let q: (String) -> String = { JSONText.quoted($0) }
        let services = state.services.map { name, report in
            object([("name", q(name)), ("state", q(report.map { $0.ready ? "serving" : "starting" } ?? "no report")),
                    ("rate", rate(state.rates[name])), ("requests", String(report?.requests ?? 0))])
        }
        let connections = state.connections.map {
            object([("protocol", q($0.service)), ("client", q("\($0.id.remote)")), ("server", q("\($0.id.local)")), ("state", q($0.state)),
                    ("age", q(age($0.ageSeconds))), ("bytesIn", String($0.bytesIn)), ("bytesOut", String($0.bytesOut))])
        }
        func recent(_ service: String) -> [String] {
            state.recent(service).map {
                object([("time", q(UTCTime.format($0.time, "%H:%M:%S"))), ("client", q("\($0.client.remote)")),
                        ("server", q("\($0.client.local)")), ("summary", q($0.summary)), ("bytes", String($0.bytes))])
            }
        }
        let zones = state.zones.map { object([("zone", q($0.name)), ("serial", String($0.serial))]) }
        let mails = state.mails.map {
            object([("id", q(percentEncoded($0.id))), ("received", q(UTCTime.format($0.received, "%Y-%m-%d %H:%M:%S"))),
                    ("from", q($0.from)), ("to", q($0.to)), ("subject", q($0.subject)), ("size", String($0.size))])
        }
        return object([("services", array(services)), ("connections", array(connections)), ("datagrams", array(recent("dns"))),
                       ("zones", array(zones)), ("mails", array(mails)), ("transfers", array(recent("ftp")))]) + "\n"
    }

    /// One mail: headers, the text body as text, an HTML body in a frame that runs no
    /// script and loads nothing (`sandbox` without `allow-scripts`, its `srcdoc` escaped),
    /// and the attachments by name.
    public static func mail(_ message: MIMEMessage, id: String) -> String {
        var page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>\(HTMLText.escaped(message.header("subject") ?? "mail"))</title>"
            + "<link rel=\"stylesheet\" href=\"/console.css\"></head><body><p><a href=\"/\">console</a></p>"
        page += "<h1>\(HTMLText.escaped(message.header("subject") ?? "(no subject)"))</h1>\n<table class=\"headers\"><tbody>"
        for (name, value) in message.headers {
            page += "<tr><th>\(HTMLText.escaped(name))</th><td>\(HTMLText.escaped(EncodedWords.decode(value)))</td></tr>"
        }
        page += "</tbody></table>\n"
        if let text = message.text { page += "<h2>Text</h2><pre class=\"body\">\(HTMLText.escaped(text))</pre>\n" }
        if let html = message.html {
            page += "<h2>HTML</h2><iframe class=\"body\" sandbox=\"\" referrerpolicy=\"no-referrer\" srcdoc=\"\(HTMLText.escaped(html))\"></iframe>\n"
                + "<details><summary>HTML source</summary><pre>\(HTMLText.escaped(html))</pre></details>\n"
        }
        page += "<h2>Attachments</h2><ul>"
        for attachment in message.attachments {
            page += "<li>\(HTMLText.escaped(attachment.name)) (\(HTMLText.escaped(attachment.type)), \(attachment.size) bytes)</li>"
        }
        if message.attachments.isEmpty { page += "<li>none</li>" }
        return page + "</ul></body></html>\n"
    }

    private static func table(_ id: String, _ title: String, _ columns: [String], _ rows: [[String]]) -> String {
        "<section><h2>\(title)</h2><table id=\"\(id)\"><thead><tr>" + columns.map { "<th>\($0)</th>" }.joined()
            + "</tr></thead><tbody>" + rows.map { row($0) }.joined() + "</tbody></table></section>\n"
    }

    private static func row(_ cells: [String], attributes: String = "") -> String {
        "<tr\(attributes)>" + cells.map { "<td>\(HTMLText.escaped($0))</td>" }.joined() + "</tr>"
    }

    private static func rate(_ value: Double?) -> String {
        guard let value else { return "0" }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    private static func age(_ seconds: Double) -> String {
        let s = Int(seconds)
        return s < 60 ? "\(s)s" : s < 3600 ? "\(s / 60)m\(s % 60)s" : "\(s / 3600)h\(s / 60 % 60)m"
    }

    /// A mail id in a query: everything but unreserved characters and `/` escaped.
    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                out += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0xF)])
            }
        }
        return out
    }
}
