import Dispatch
import ServerCore
import Synchronization
import Testing

@Suite struct BlockingPoolTests {
    final class Peak: Sendable {
        let running = Atomic<Int>(0)
        let most = Atomic<Int>(0)
        func enter() {
            let now = running.add(1, ordering: .relaxed).newValue
            var seen = most.load(ordering: .relaxed)
            while now > seen, !most.compareExchange(expected: seen, desired: now, ordering: .relaxed).exchanged {
                seen = most.load(ordering: .relaxed)
            }
        }
        func leave() { running.subtract(1, ordering: .relaxed) }
    }

    @Test func runsAtMostItsLanesAtOnceAndRefusesPastItsCapacity() {
        let pool = BlockingPool(lanes: 2, capacity: 6)
        let peak = Peak()
        let gate = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        var accepted = 0
        for _ in 0..<10 {
            done.enter()
            let taken = pool.submit {
                peak.enter()
                gate.wait()
                peak.leave()
                done.leave()
            }
            if taken { accepted += 1 } else { done.leave() }
        }
        #expect(accepted == 6)
        #expect(pool.load == 6)
        for _ in 0..<6 { gate.signal() }
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(peak.most.load(ordering: .relaxed) <= 2)
        let deadline = DispatchTime.now() + 5
        while pool.load > 0 && DispatchTime.now() < deadline {}
        #expect(pool.load == 0)
        #expect(pool.submit {})
    }
}
