/// Ways to cut an input into the reads a peer could make it arrive in, all drawn from the
/// input itself so that a run is repeatable.
enum Pieces {
    /// The input in one read.
    static func whole(_ count: Int) -> [Range<Int>] { [0..<count] }

    /// One byte per read.
    static func bytes(_ count: Int) -> [Range<Int>] { (0..<count).map { $0..<($0 + 1) } }

    /// Up to 16 reads, cut at points drawn from a hash of the input.
    static func cuts(_ input: [UInt8]) -> [Range<Int>] {
        var random = SplitMix(seed: fnv1a(input))
        let count = Int(random.next() % 16)
        let points = (0..<count).map { _ in Int(random.next() % UInt64(input.count + 1)) }
        var bounds = Array(Set(points + [0, input.count])).sorted()
        if bounds.count == 1 { bounds.append(bounds[0]) }
        return zip(bounds, bounds.dropFirst()).map { $0..<$1 }
    }

    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        bytes.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }
}

/// SplitMix64: small, fast, and the same sequence for the same seed everywhere.
struct SplitMix {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
