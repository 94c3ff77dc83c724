/// The `a=` signing algorithms.
package enum SigningAlgorithm: String, Sendable, Hashable, CaseIterable {
    case rsaSHA256 = "rsa-sha256"
    /// Verify-only in practice (RFC 8301); signing with it exists to reproduce old peers' requests.
    case rsaSHA1 = "rsa-sha1"

    package var hash: HashAlgorithm {
        switch self {
        case .rsaSHA256: .sha256
        case .rsaSHA1: .sha1
        }
    }
}
