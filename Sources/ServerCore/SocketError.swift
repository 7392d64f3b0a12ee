import Glibc

/// A failed socket call, with the address it concerned and the errno it returned.
public struct SocketError: Error, Sendable, CustomStringConvertible {
    public enum Operation: String, Sendable {
        case socket, bind, listen, option = "setsockopt", address = "getsockname"
    }

    public let operation: Operation
    public let address: SocketAddress
    public let errno: Int32

    public init(_ operation: Operation, address: SocketAddress, errno: Int32) {
        self.operation = operation
        self.address = address
        self.errno = errno
    }

    public var reason: String { errorText(errno) }

    public var description: String { "cannot \(operation.rawValue) \(address): \(reason)" }
}
