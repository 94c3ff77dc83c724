#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Supplies the current Unix time; injected so verification is testable at any instant.
package protocol UnixClock: Sendable {
    func now() -> Int64
}

/// The system's wall clock.
package struct SystemUnixClock: UnixClock {
    package init() {}
    package func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec)
    }
}

/// A clock stopped at one instant.
package struct FixedUnixClock: UnixClock {
    package let time: Int64
    package init(_ time: Int64) { self.time = time }
    package func now() -> Int64 { time }
}
