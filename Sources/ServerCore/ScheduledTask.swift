import Dispatch

/// Work to run once, some seconds from now, unless cancelled first: the timers protocols
/// keep of their own accord (a DNS secondary's refresh), so they need no Dispatch of their own.
/// A Dispatch source may be cancelled from any thread, hence `@unchecked Sendable`.
public final class ScheduledTask: @unchecked Sendable {
    private let timer: any DispatchSourceTimer

    private static let queue = DispatchQueue(label: "appserver.scheduled")

    private init(_ timer: any DispatchSourceTimer) {
        self.timer = timer
    }

    /// Runs `body` after `seconds` (at once for 0 or less), on a queue of its own.
    @discardableResult
    public static func after(_ seconds: Double, _ body: @escaping @Sendable () -> Void) -> ScheduledTask {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + max(0, seconds))
        timer.setEventHandler {
            timer.cancel()
            body()
        }
        timer.activate()
        return ScheduledTask(timer)
    }

    /// The work will not run (if it has not already).
    public func cancel() { timer.cancel() }
}
