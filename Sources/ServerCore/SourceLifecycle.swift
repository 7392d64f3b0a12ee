import Dispatch
import Synchronization

/// Starts and stops a Dispatch source exactly once each, from any thread. Dispatch
/// crashes on releasing a source never activated, so stopping one that never started
/// activates it first, then cancels it.
final class SourceLifecycle: Sendable {
    private let state = Mutex((started: false, stopped: false))

    func start(_ source: any DispatchSourceProtocol) {
        state.withLock { state in
            guard !state.started && !state.stopped else { return }
            state.started = true
            source.activate()
        }
    }

    func stop(_ source: any DispatchSourceProtocol) {
        state.withLock { state in
            guard !state.stopped else { return }
            state.stopped = true
            if !state.started { source.activate() }
            source.cancel()
        }
    }
}
