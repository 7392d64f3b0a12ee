import Glibc

/// What an errno means, as strerror(3) says it, for the one-line errors people read.
public func errorText(_ code: Int32) -> String {
    String(cString: strerror(code))
}

/// Writes to standard error at once (no buffer to flush before an exit), a line by default.
public func printError(_ text: String, terminator: String = "\n") {
    let bytes = Array((text + terminator).utf8)
    _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}
