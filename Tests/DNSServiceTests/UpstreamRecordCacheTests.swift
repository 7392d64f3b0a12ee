import Synchronization
import Testing
@testable import DNSService

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let seconds = Atomic<UInt64>(1000)
    func advance(_ by: UInt64) { seconds.add(by, ordering: .relaxed) }
    var now: UInt64 { seconds.load(ordering: .relaxed) }
}

@Suite struct UpstreamRecordCacheTests {
    let clock = ManualClock()
    let key = UpstreamRecordCache.Key(.init(name: DNSName("www.example.com.")!, type: .a))
    let name = DNSName("www.example.com.")!

    func cache(capacity: Int = 100) -> UpstreamRecordCache {
        let clock = clock
        return UpstreamRecordCache(capacity: capacity) { clock.now }
    }

    func positive(ttls: [UInt32]) -> UpstreamRecordCache.Answer {
        .init(rcode: 0, answer: ttls.map { ResourceRecord(name: name, type: .a, ttl: $0, data: .a([192, 0, 2, 1])) }, authority: [], additional: [])
    }

    func negative(rcode: RCode, soaTTL: UInt32, minimum: UInt32) -> UpstreamRecordCache.Answer {
        let soa = RData.SOA(mname: DNSName("ns.example.com.")!, rname: DNSName("h.example.com.")!, serial: 1, refresh: 1, retry: 1, expire: 1, minimum: minimum)
        return .init(rcode: rcode.rawValue, answer: [], authority: [ResourceRecord(name: DNSName("example.com.")!, type: .soa, ttl: soaTTL, data: .soa(soa))], additional: [])
    }

    @Test func ttlsCountDownAndExpire() {
        let cache = cache()
        cache.store(key, positive(ttls: [300, 100]))
        clock.advance(40)
        #expect(cache.lookup(key)?.answer.map(\.ttl) == [260, 60])
        clock.advance(59)
        #expect(cache.lookup(key)?.answer.map(\.ttl) == [201, 1])
        clock.advance(1)
        #expect(cache.lookup(key) == nil)
    }

    @Test func negativeAnswersUseTheSOA() {
        let cache = cache()
        cache.store(key, negative(rcode: .nxDomain, soaTTL: 3600, minimum: 60))
        clock.advance(59)
        #expect(cache.lookup(key)?.rcode == RCode.nxDomain.rawValue)
        clock.advance(1)
        #expect(cache.lookup(key) == nil)
        #expect(UpstreamRecordCache.ttl(of: negative(rcode: .noError, soaTTL: 30, minimum: 600)) == 30)
        #expect(UpstreamRecordCache.ttl(of: .init(rcode: 3, answer: [], authority: [], additional: [])) == nil)
        #expect(UpstreamRecordCache.ttl(of: .init(rcode: 2, answer: [], authority: [], additional: [])) == nil)
        #expect(UpstreamRecordCache.ttl(of: positive(ttls: [999_999])) == 86_400)
    }

    @Test func staleAfterExpiryWithinTheWindow() {
        let cache = cache()
        cache.store(key, positive(ttls: [10]))
        clock.advance(100)
        #expect(cache.lookup(key) == nil)
        #expect(cache.stale(key)?.answer.map(\.ttl) == [30])
        clock.advance(86_400)
        #expect(cache.stale(key) == nil)
    }

    @Test func leastRecentlyUsedIsForgotten() {
        let cache = cache(capacity: 10)
        let keys = (0..<10).map { UpstreamRecordCache.Key(.init(name: DNSName("h\($0).example.com.")!, type: .a)) }
        for k in keys {
            cache.store(k, positive(ttls: [300]))
            clock.advance(1)
        }
        #expect(cache.lookup(keys[0]) != nil)
        clock.advance(1)
        cache.store(key, positive(ttls: [300]))
        #expect(cache.count == 10)
        #expect(cache.lookup(keys[0]) != nil)
        #expect(cache.lookup(keys[1]) == nil)
    }

    @Test func zeroTTLIsNotKept() {
        let cache = cache()
        cache.store(key, positive(ttls: [0]))
        #expect(cache.count == 0)
    }
}
