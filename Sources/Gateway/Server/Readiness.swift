internal import Synchronization

/// Counts listeners that are up; `/healthz` is ready once all are.
final class Readiness: Sendable {
    private let started = Mutex(0)
    let expected: Int

    init(expected: Int) { self.expected = expected }

    func listenerStarted() { started.withLock { $0 += 1 } }
    var isReady: Bool { started.withLock { $0 } >= expected }
}
