internal import Logging
internal import Synchronization

/// Logs a recurring error once, then at most once a minute with how often it recurred meanwhile,
/// so that a broken store does not write a line on every poll.
final class LogThrottle: Sendable {
    private let interval: Int64
    private let clock: GatewayClock
    private let state = Mutex<[String: (last: Int64, suppressed: Int)]>([:])

    init(intervalSeconds: Int64 = 60, clock: GatewayClock) {
        interval = intervalSeconds * 1000
        self.clock = clock
    }

    /// Logs `message` under `key` at error level unless it was logged less than the interval ago.
    func error(_ key: String, _ message: @autoclosure () -> String, logger: Logger) {
        let now = clock.milliseconds()
        let suppressed: Int? = state.withLock { entries in
            guard let entry = entries[key], now - entry.last < interval else {
                let count = entries[key]?.suppressed ?? 0
                entries[key] = (now, 0)
                return count
            }
            entries[key]?.suppressed += 1
            return nil
        }
        guard let suppressed else { return }
        logger.error("\(message())\(suppressed > 0 ? " (\(suppressed) more times since the last report)" : "")")
    }
}
