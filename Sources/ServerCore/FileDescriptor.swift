import Glibc

/// An open file whose descriptor is closed when the last reference goes, so a file
/// queued for sending stays open exactly as long as the connection needs it.
public final class FileDescriptor: Sendable {
    public let fd: Int32

    public init(_ fd: Int32) { self.fd = fd }

    deinit { close(fd) }
}
