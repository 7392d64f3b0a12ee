import Synchronization
import Testing
@testable import DNSService

/// An upstream the test controls: it remembers every question and answers it only on
/// `answer` (A 198.51.100.n for the n-th asked, from 1) or `fail`; what it holds in its
/// cache is what the test put there, aged by nothing, at the second the test sets.
final class FakeUpstream: UpstreamResolver {
    typealias Completion = @Sendable (UpstreamRecordCache.Answer?) -> Void
    private let asked = Mutex<[(DNSMessage.Question, Completion)]>([])
    private let held = Mutex<[DNSName: UpstreamRecordCache.Answer]>([:])
    private let lookups = Atomic<Int>(0)
    let second = Atomic<UInt64>(100)

    var now: UInt64 { second.load(ordering: .relaxed) }
    var count: Int { asked.withLock { $0.count } }
    /// How often the cache was looked in.
    var cacheLookups: Int { lookups.load(ordering: .relaxed) }

    func hold(_ name: String, _ answer: UpstreamRecordCache.Answer) {
        held.withLock { $0[DNSName(name)!] = answer }
    }

    func cached(_ question: DNSMessage.Question) -> UpstreamRecordCache.Answer? {
        lookups.add(1, ordering: .relaxed)
        return held.withLock { $0[question.name] }
    }

    func resolve(_ question: DNSMessage.Question, completion: @escaping Completion) {
        asked.withLock { $0.append((question, completion)) }
    }

    static func address(_ number: Int) -> RData { .a([198, 51, 100, UInt8(truncatingIfNeeded: number)]) }

    func answer(_ number: Int) {
        guard let (question, completion) = take(number) else { return }
        let record = ResourceRecord(name: question.name, type: .a, ttl: 60, data: FakeUpstream.address(number))
        completion(.init(rcode: RCode.noError.rawValue, answer: [record], authority: [], additional: []))
    }

    func fail(_ number: Int) { take(number)?.1(nil) }

    private func take(_ number: Int) -> (DNSMessage.Question, Completion)? {
        let entry = asked.withLock { $0.indices.contains(number - 1) ? $0[number - 1] : nil }
        if entry == nil { Issue.record("question \(number) was never asked") }
        return entry
    }
}
