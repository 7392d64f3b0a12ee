import Testing
@testable import HTTPService

/// Found by the http-fields fuzz target: a date before year 1000 was written with a
/// three-digit year, which no parser (ours included) reads back.
@Suite struct HTTPDateYearTests {
    @Test(arguments: ["Sun Nov  6 08:49:37 0997", "Mon, 01 Jan 0001 00:00:00 GMT", "Fri, 31 Dec 0999 23:59:59 GMT",
                      "Wed, 01 Jan 1000 00:00:00 GMT", "Sun, 06 Nov 1994 08:49:37 GMT"])
    func everyParsedDateIsWrittenSoThatItReadsBack(_ text: String) throws {
        let seconds = try #require(HTTPDate.parse(text))
        let written = HTTPDate.format(seconds)
        #expect(HTTPDate.parse(written) == seconds, "\(written)")
        #expect(written.split(separator: " ")[3].count == 4)
    }
}
