#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `a=` signing algorithms.
public enum SigningAlgorithm: String, Sendable, Hashable, CaseIterable {
    case rsaSHA256 = "rsa-sha256"
    /// Verify-only in practice (RFC 8301); signing with it exists to reproduce old peers' requests.
    case rsaSHA1 = "rsa-sha1"

    public var hash: HashAlgorithm {
        switch self {
        case .rsaSHA256: .sha256
        case .rsaSHA1: .sha1
        }
    }
}

/// Supplies the current Unix time; injected so verification is testable at any instant.
public protocol UnixClock: Sendable {
    func now() -> Int64
}

/// The system's wall clock.
public struct SystemUnixClock: UnixClock {
    public init() {}
    public func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec)
    }
}

/// A clock stopped at one instant.
public struct FixedUnixClock: UnixClock {
    public let time: Int64
    public init(_ time: Int64) { self.time = time }
    public func now() -> Int64 { time }
}
