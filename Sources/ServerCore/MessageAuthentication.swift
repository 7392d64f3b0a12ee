import COpenSSL

/// HMAC through OpenSSL, for protocols that authenticate messages with a shared secret
/// (DNS's TSIG, RFC 8945), and the constant-time comparison their checks need. Only
/// ServerCore imports OpenSSL; protocols see bytes in and bytes out.
public enum MessageAuthentication {
    public enum Algorithm: String, Sendable, CaseIterable {
        case sha1, sha256, sha512

        /// The MAC's length in octets.
        public var size: Int {
            switch self {
            case .sha1: 20
            case .sha256: 32
            case .sha512: 64
            }
        }

        fileprivate var digest: OpaquePointer? {
            switch self {
            case .sha1: EVP_sha1()
            case .sha256: EVP_sha256()
            case .sha512: EVP_sha512()
            }
        }
    }

    /// A MAC computed over several pieces fed in turn, as if joined: a multi-message
    /// exchange feeds the previous MAC, the message and its variables without copying them
    /// into one buffer.
    public struct Stream: ~Copyable {
        private let context: OpaquePointer
        private let key: OpaquePointer
        private let algorithm: Algorithm
        private var failed = false

        /// Nil when OpenSSL refuses the key (it never does for a non-empty one).
        public init?(_ algorithm: Algorithm, key secret: [UInt8]) {
            guard let key = secret.withUnsafeBufferPointer({
                EVP_PKEY_new_raw_private_key(EVP_PKEY_HMAC, nil, $0.baseAddress, $0.count)
            }) else { return nil }
            guard let context = EVP_MD_CTX_new() else {
                EVP_PKEY_free(key)
                return nil
            }
            guard EVP_DigestSignInit(context, nil, algorithm.digest, nil, key) == 1 else {
                EVP_MD_CTX_free(context)
                EVP_PKEY_free(key)
                return nil
            }
            self.context = context
            self.key = key
            self.algorithm = algorithm
        }

        public mutating func update(_ bytes: some Collection<UInt8>) {
            let done = bytes.withContiguousStorageIfAvailable { EVP_DigestUpdate(context, $0.baseAddress, $0.count) == 1 }
                ?? Array(bytes).withUnsafeBufferPointer { EVP_DigestUpdate(context, $0.baseAddress, $0.count) == 1 }
            if !done { failed = true }
        }

        /// The MAC; nil if OpenSSL failed on the way.
        public consuming func finish() -> [UInt8]? {
            var mac = [UInt8](repeating: 0, count: algorithm.size)
            var length = mac.count
            let done = EVP_DigestSignFinal(context, &mac, &length) == 1
            guard done, !failed, length == algorithm.size else { return nil }
            return mac
        }

        deinit {
            EVP_MD_CTX_free(context)
            EVP_PKEY_free(key)
        }
    }

    /// The MAC of `pieces` joined, in one call.
    public static func mac(_ algorithm: Algorithm, key: [UInt8], _ pieces: [[UInt8]]) -> [UInt8]? {
        guard var stream = Stream(algorithm, key: key) else { return nil }
        for piece in pieces { stream.update(piece) }
        return stream.finish()
    }

    /// Whether two MACs are equal, in time that depends on their length alone.
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        guard !a.isEmpty else { return true }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 } }
    }
}
