import HTTPService
import Logging
import ServerCore

/// A request to the admin listener, as the routes see it.
public struct AdminRequest: Sendable {
    public let head: HTTPRequestHead
    public let client: ConnectionID

    public init(head: HTTPRequestHead, client: ConnectionID) {
        self.head = head
        self.client = client
    }

    /// The path without the query (`/` for what has none).
    public var path: String { head.path.map(String.init) ?? "/" }

    /// The value of `name` in the query, percent-decoded; nil when absent or not UTF-8.
    public func query(_ name: String) -> String? {
        guard let mark = head.target.firstIndex(of: "?") else { return nil }
        for pair in head.target[head.target.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == name else { continue }
            return PercentDecoding.decode(parts[1])
        }
        return nil
    }
}

/// What the admin listener needs: its routes (run on the blocking pool) and its bounds.
public struct AdminConfiguration: Sendable {
    public var routes: @Sendable (AdminRequest) -> AdminResponse
    public var logger: Logger
    public var idleTimeout: Double = 30
    public var limits = HTTPParserLimits()
    public var observer: ConnectionObserver?
    /// HTTPS from the first byte (beyond loopback); nil: plain HTTP.
    public var tls: TLSContextHolder?

    public init(logger: Logger, routes: @escaping @Sendable (AdminRequest) -> AdminResponse) {
        self.logger = logger
        self.routes = routes
        limits.maxBody = 0
    }

    public var service: TCPService {
        let configuration = self
        let driving = SessionDriver<AdminSession>.Configuration(service: "admin", logger: logger, inputLimit: limits.maxHead)
        var service = TCPService(busyReply: AdminResponse.plain(503, "busy").bytes(keepAlive: false, head: false),
                                 tls: tls, plaintextReply: tls == nil ? [] : HTTPConfiguration.plainRequestOnTLSPort) { id in
            SessionDriver(AdminSession(configuration, client: id), driving)
        }
        service.observer = observer
        return service
    }
}

/// `%HH` escapes in a query value (and `+` as a space, as forms send it).
enum PercentDecoding {
    static func decode(_ text: Substring) -> String? {
        var out: [UInt8] = []
        var bytes = text.utf8.makeIterator()
        while let byte = bytes.next() {
            switch byte {
            case UInt8(ascii: "+"): out.append(0x20)
            case UInt8(ascii: "%"):
                guard let high = bytes.next()?.hexDigitValue, let low = bytes.next()?.hexDigitValue else { return nil }
                out.append(high << 4 | low)
            default: out.append(byte)
            }
        }
        return String(validating: out, as: UTF8.self)
    }
}
