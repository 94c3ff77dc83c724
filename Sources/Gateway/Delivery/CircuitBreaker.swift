internal import Synchronization

/// Per-remote-domain circuit breaker: after `threshold` consecutive failed attempts a domain is
/// left alone for `cooldown` milliseconds, so a dead domain costs one probe per cooldown instead
/// of a worker slot per due record, and new messages for it are queued at once instead of
/// holding the local server's request through connection timeouts.
final class CircuitBreaker: Sendable {
    private struct State {
        var failures = 0
        var openUntil: Int64 = 0
    }

    private let states = Mutex<[String: State]>([:])
    let threshold: Int
    let cooldown: Int64

    init(threshold: Int, cooldownMilliseconds: Int64) {
        self.threshold = threshold
        self.cooldown = cooldownMilliseconds
    }

    func isOpen(_ domain: String, now: Int64) -> Bool {
        states.withLock { ($0[domain]?.openUntil ?? 0) > now }
    }

    /// Domains whose circuit is open at `now`.
    func openDomains(now: Int64) -> Set<String> {
        states.withLock { states in Set(states.filter { $0.value.openUntil > now }.keys) }
    }

    /// Every domain with failures counted: how many in a row, and until when (Unix ms) it is open.
    func snapshot() -> [String: (failures: Int, openUntil: Int64)] {
        states.withLock { states in states.mapValues { ($0.failures, $0.openUntil) } }
    }

    func recordSuccess(_ domain: String) {
        states.withLock { $0[domain] = nil }
    }

    /// Counts a failure; returns true when this one opened the circuit.
    @discardableResult
    func recordFailure(_ domain: String, now: Int64) -> Bool {
        states.withLock { states in
            var state = states[domain] ?? State()
            state.failures += 1
            let opens = state.failures >= threshold && state.openUntil <= now
            if opens { state.openUntil = now + cooldown }
            states[domain] = state
            return opens
        }
    }
}
