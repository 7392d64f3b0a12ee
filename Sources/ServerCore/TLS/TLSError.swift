import COpenSSL

/// A certificate or context that could not be loaded or built: `file: why`, one line.
public struct TLSError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }

    /// OpenSSL's reason for the last failure on this thread (the queue is emptied).
    static func openSSLReason() -> String {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0, let reason = ERR_reason_error_string(code) else { return "OpenSSL failed" }
        return String(cString: reason)
    }
}
