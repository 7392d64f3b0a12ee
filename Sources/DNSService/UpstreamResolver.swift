/// Where the responder sends a question that is not ours: `Forwarder` asks upstream
/// servers through its record cache; tests hand in an upstream they control.
public protocol UpstreamResolver: Sendable {
    /// The second, on the record cache's clock, that cached answers are aged to.
    var now: UInt64 { get }
    /// The answer held now, if any, without asking upstream.
    func cached(_ question: DNSMessage.Question) -> UpstreamRecordCache.Answer?
    /// Calls `completion` exactly once, from any queue, with the answer, or nil for SERVFAIL.
    func resolve(_ question: DNSMessage.Question, completion: @escaping @Sendable (UpstreamRecordCache.Answer?) -> Void)
}
