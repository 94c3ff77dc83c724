internal import DKIM
internal import Foundation

/// Wall-clock time, injected into every stage so that tests can drive it: milliseconds for the
/// queue, seconds (through `unix`) for signatures and the replay cache.
struct GatewayClock: Sendable {
    let milliseconds: @Sendable () -> Int64

    var seconds: Int64 { milliseconds() / 1000 }

    /// The same clock as DKIM's `UnixClock` (seconds).
    var unix: any UnixClock { SecondsClock(clock: self) }

    static let system = GatewayClock { Int64(Date().timeIntervalSince1970 * 1000) }

    private struct SecondsClock: UnixClock {
        let clock: GatewayClock
        func now() -> Int64 { clock.seconds }
    }
}
