/// Content types by file extension (the common part of nginx's mime.types), and which
/// of them are worth compressing.
public enum MIMETypes {
    public struct Entry: Sendable {
        public let type: String
        public let compressible: Bool
    }

    private static let table: [String: Entry] = {
        var t: [String: Entry] = [:]
        func add(_ type: String, compressible: Bool, _ extensions: String...) {
            for ext in extensions { t[ext] = Entry(type: type, compressible: compressible) }
        }
        add("text/html; charset=utf-8", compressible: true, "html", "htm")
        add("text/css; charset=utf-8", compressible: true, "css")
        add("text/javascript; charset=utf-8", compressible: true, "js", "mjs")
        add("text/plain; charset=utf-8", compressible: true, "txt", "text", "log", "md", "conf")
        add("text/csv; charset=utf-8", compressible: true, "csv")
        add("text/xml; charset=utf-8", compressible: true, "xml")
        add("text/markdown; charset=utf-8", compressible: true, "markdown")
        add("text/calendar; charset=utf-8", compressible: true, "ics")
        add("application/json", compressible: true, "json", "map")
        add("application/manifest+json", compressible: true, "webmanifest")
        add("application/ld+json", compressible: true, "jsonld")
        add("application/rss+xml", compressible: true, "rss")
        add("application/atom+xml", compressible: true, "atom")
        add("application/wasm", compressible: true, "wasm")
        add("image/svg+xml", compressible: true, "svg", "svgz")
        add("image/x-icon", compressible: true, "ico")
        add("image/bmp", compressible: true, "bmp")
        add("image/png", compressible: false, "png")
        add("image/jpeg", compressible: false, "jpg", "jpeg")
        add("image/gif", compressible: false, "gif")
        add("image/webp", compressible: false, "webp")
        add("image/avif", compressible: false, "avif")
        add("font/woff", compressible: false, "woff")
        add("font/woff2", compressible: false, "woff2")
        add("font/ttf", compressible: true, "ttf")
        add("font/otf", compressible: true, "otf")
        add("application/pdf", compressible: false, "pdf")
        add("application/zip", compressible: false, "zip")
        add("application/gzip", compressible: false, "gz", "tgz")
        add("application/x-tar", compressible: true, "tar")
        add("audio/mpeg", compressible: false, "mp3")
        add("audio/ogg", compressible: false, "ogg", "oga")
        add("audio/wav", compressible: false, "wav")
        add("video/mp4", compressible: false, "mp4")
        add("video/webm", compressible: false, "webm")
        return t
    }()

    private static let fallback = Entry(type: "application/octet-stream", compressible: false)

    public static func lookup(_ fileName: String) -> Entry {
        guard let dot = fileName.lastIndex(of: "."), dot != fileName.startIndex else { return fallback }
        return table[fileName[fileName.index(after: dot)...].lowercased()] ?? fallback
    }
}
