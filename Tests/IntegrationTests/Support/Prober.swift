import Foundation
import Glibc

/// A client that tries one exchange every `interval` on a thread of its own until stopped,
/// and keeps each outcome with its time: how a service looked from outside meanwhile.
final class Prober: @unchecked Sendable {
    enum Outcome: Equatable { case ok, refused, failed }

    struct Attempt {
        let started: Date
        let finished: Date
        let outcome: Outcome
    }

    private let lock = NSLock()
    private var attempts: [Attempt] = []
    private var stopped = false
    private let done = DispatchSemaphore(value: 0)

    /// `exchange` returns whether the answer was right; a refused connection throws ECONNREFUSED.
    init(every interval: Double, _ exchange: @escaping @Sendable () throws -> Bool) {
        Thread.detachNewThread { [self] in
            while !isStopped {
                let started = Date()
                let outcome: Outcome
                do {
                    outcome = try exchange() ? .ok : .failed
                } catch let error as POSIXError where error.code == .ECONNREFUSED {
                    outcome = .refused
                } catch {
                    outcome = .failed
                }
                lock.withLock { attempts.append(Attempt(started: started, finished: Date(), outcome: outcome)) }
                Thread.sleep(forTimeInterval: max(0, interval - Date().timeIntervalSince(started)))
            }
            done.signal()
        }
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    /// Stops, waits for the attempt under way, and returns them all.
    func stop() -> [Attempt] {
        lock.withLock { stopped = true }
        done.wait()
        return lock.withLock { attempts }
    }

    /// An HTTP GET of / on a new connection, answered 200.
    static func http(port: UInt16) -> @Sendable () throws -> Bool {
        {
            let client = try RawClient(port: port, timeout: 5)
            client.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return RawResponse.parseAll(client.readAll()).first?.status == 200
        }
    }

    /// A new connection whose first line starts with `greeting` (SMTP's and FTP's "220 ").
    static func greeting(port: UInt16, _ greeting: String = "220 ") -> @Sendable () throws -> Bool {
        {
            let client = try RawClient(port: port, timeout: 5)
            return String(decoding: client.read(atLeast: greeting.utf8.count), as: UTF8.self).hasPrefix(greeting)
        }
    }
}
