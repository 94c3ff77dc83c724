#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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
