internal import COpenSSL

/// The hash functions DKIM signatures use (`a=rsa-sha256`, `a=rsa-sha1`).
package enum HashAlgorithm: String, Sendable, CaseIterable {
    case sha256
    case sha1

    /// Digest of `bytes`.
    package func digest(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var hasher = IncrementalHasher(self)
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// The explicitly fetched OpenSSL implementation (fetched once; implicit fetches cost per call).
    var messageDigest: OpaquePointer {
        switch self {
        case .sha256: FetchedDigests.shared.sha256
        case .sha1: FetchedDigests.shared.sha1
        }
    }
}

/// Explicitly fetched `EVP_MD` objects, immutable and shared by every thread.
final class FetchedDigests: @unchecked Sendable {
    static let shared = FetchedDigests()
    let sha256: OpaquePointer
    let sha1: OpaquePointer

    private init() {
        guard let sha256 = EVP_MD_fetch(nil, "SHA256", nil), let sha1 = EVP_MD_fetch(nil, "SHA1", nil) else {
            fatalError("OpenSSL has no SHA-1/SHA-256 implementation: \(CryptoError("EVP_MD_fetch"))")
        }
        self.sha256 = sha256
        self.sha1 = sha1
    }
}

/// A running hash; feed it pieces with `update` and read the digest once with `finalize`.
package struct IncrementalHasher: ~Copyable {
    private let context: OpaquePointer

    package init(_ algorithm: HashAlgorithm) {
        guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, algorithm.messageDigest, nil) == 1 else {
            fatalError("EVP_DigestInit_ex failed: \(CryptoError("digest init"))")
        }
        self.context = context
    }

    package mutating func update(_ bytes: some Collection<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            _ = EVP_DigestUpdate(context, buffer.baseAddress, buffer.count)
        }
        if done == nil {
            let copy = Array(bytes)
            copy.withUnsafeBufferPointer { _ = EVP_DigestUpdate(context, $0.baseAddress, $0.count) }
        }
    }

    package consuming func finalize() -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        _ = EVP_DigestFinal_ex(context, &output, &length)
        return Array(output.prefix(Int(length)))
    }

    deinit {
        EVP_MD_CTX_free(context)
    }
}
