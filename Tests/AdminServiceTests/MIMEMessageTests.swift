import AdminService
import PropertyBased
import ServerCore
import Testing

@Suite struct MIMEMessageTests {
    static let multipart = """
    From: =?UTF-8?B?SsO2cmc=?= <j@example.test>\r
    To: bob@localhost\r
    Subject: =?ISO-8859-1?Q?caf=E9?= and\r
     more\r
    MIME-Version: 1.0\r
    Content-Type: multipart/mixed; boundary="outer"\r
    \r
    preamble\r
    --outer\r
    Content-Type: multipart/alternative; boundary=inner\r
    \r
    --inner\r
    Content-Type: text/plain; charset=utf-8\r
    Content-Transfer-Encoding: quoted-printable\r
    \r
    caf=C3=A9 <b>not markup</b>=\r
    !\r
    --inner\r
    Content-Type: text/html\r
    \r
    <p onclick="x()">hi</p><script>alert(1)</script>\r
    --inner--\r
    --outer\r
    Content-Type: application/pdf; name="report.pdf"\r
    Content-Disposition: attachment; filename="report.pdf"\r
    Content-Transfer-Encoding: base64\r
    \r
    aGVsbG8g\r
    d29ybGQ=\r
    --outer--\r
    epilogue\r

    """

    @Test func headersBodiesAndAttachmentsOfANestedMultipart() {
        let message = MIMEMessage(Array(Self.multipart.utf8))
        #expect(message.header("from") == "Jörg <j@example.test>")
        #expect(message.header("subject") == "café and more")
        #expect(message.text == "café <b>not markup</b>!")
        #expect(message.html == "<p onclick=\"x()\">hi</p><script>alert(1)</script>")
        #expect(message.attachments == [.init(name: "report.pdf", type: "application/pdf", size: 11)])
    }

    @Test func theMailPageShowsEverythingAsTextAndTheHTMLInAScriptlessFrame() {
        let page = ConsolePage.mail(MIMEMessage(Array(Self.multipart.utf8)), id: "x")
        #expect(!page.contains("<script>alert"))
        #expect(page.contains("&lt;b&gt;not markup&lt;/b&gt;"))
        #expect(page.contains("<iframe class=\"body\" sandbox=\"\""))
        #expect(page.contains("srcdoc=\"&lt;p onclick=&quot;x()&quot;&gt;hi&lt;/p&gt;&lt;script&gt;"))
        #expect(page.contains("report.pdf (application/pdf, 11 bytes)"))
    }

    @Test func aPlainMessageWithoutHeadersEndIsStillRead() {
        let message = MIMEMessage(Array("Subject: only headers\r\nX: y".utf8))
        #expect(message.header("subject") == "only headers")
        #expect(message.text == "" && message.attachments.isEmpty)
    }

    @Test func deepNestingStopsAtTheBound() {
        var text = ""
        for depth in 0..<50 { text += "Content-Type: multipart/mixed; boundary=b\(depth)\r\n\r\n--b\(depth)\r\n" }
        text += "Content-Type: text/plain\r\n\r\ndeep\r\n"
        let message = MIMEMessage(Array(text.utf8))
        #expect(message.text == nil)
    }

    @Test func anyBytesParseWithoutTrapping() async {
        await propertyCheck(count: 300, input: Gen<UInt8>.value(in: 0...255).array(of: 0...400)) { bytes in
            let message = MIMEMessage(bytes + Array("\r\n\r\n--a\r\n\r\n--a--".utf8))
            #expect(message.attachments.count <= 100)
        }
    }

    @Test func base64DecodesAcrossLinesAndStopsAtPadding() {
        #expect(Base64.decodeSkipping(Array("aGVs\r\nbG8=ignored".utf8)) == Array("hello".utf8))
    }
}

@Suite struct ReportCodecTests {
    static let id = ConnectionID(local: SocketAddress("127.0.0.1:80", defaultPort: 0)!, remote: SocketAddress("[::1]:5555", defaultPort: 0)!)

    @Test func aReportReadsBackExactly() {
        let report = ServiceReport(service: "dns", ready: true, requests: 7,
                                   connections: [ConnectionSnapshot(id: Self.id, service: "dns", state: "open", ageSeconds: 1.5, bytesIn: 3, bytesOut: 4)],
                                   recent: [.init(time: 1_700_000_000, client: Self.id, summary: "\"a. A\" NOERROR 1", bytes: 61)],
                                   zones: [.init(name: "example.test.", serial: 2024010101)],
                                   metrics: "# TYPE x counter\nx 1\n")
        #expect(ReportCodec.decode(ReportCodec.encode(report)) == report)
    }

    @Test func anythingElseIsRefused() {
        for text in ["", "appserver-report 2\nservice\tx\nmetrics\n", "appserver-report 1\nconn\tnope\nmetrics\n",
                     "appserver-report 1\nservice\tx\nrequests\t-1\nmetrics\n", "appserver-report 1\nservice\tx\n"] {
            #expect(ReportCodec.decode(Array(text.utf8)) == nil, "\(text)")
        }
    }

    @Test func requestsAreTheDurationHistogramsCounts() {
        let text = "appserver_http_request_duration_seconds_count 4\nappserver_dns_request_duration_seconds_count 9\n"
        #expect(ServiceReport.requestCount(in: text, prefix: "appserver_http_") == 4)
        // Past 2^32, as a busy server gets in days.
        #expect(ServiceReport.requestCount(in: "appserver_http_request_duration_seconds_count 5000000007\n", prefix: "appserver_http_")
            == 5_000_000_007)
    }
}
