internal import Synchronization

/// Slots for work towards one server, shared fairly between those who ask: at most `total` at
/// once, and at most `perKey` for any one key (an asking partner domain), so that one partner
/// asking for a hundred users cannot keep another's single question waiting. Waiters are served
/// in arrival order among those allowed to start; a waiter that reaches its deadline gives up.
final class FairShare: Sendable {
    let total: Int
    let perKey: Int

    private struct Waiter {
        let id: Int
        let key: String
        let continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var running = 0
        var byKey: [String: Int] = [:]
        var waiters: [Waiter] = []
        var nextID = 0

        func mayStart(_ key: String, total: Int, perKey: Int) -> Bool { running < total && byKey[key, default: 0] < perKey }

        mutating func start(_ key: String) {
            running += 1
            byKey[key, default: 0] += 1
        }
    }

    private let state = Mutex(State())

    init(total: Int, perKey: Int) {
        self.total = max(1, total)
        self.perKey = max(1, min(perKey, total))
    }

    /// Waits for a slot for `key`; false when none came within `deadline` (nothing to release then).
    /// The check and the enqueueing are one step under the lock: a release in between is never missed.
    func acquire(_ key: String, waitingAtMost deadline: Duration) async -> Bool {
        await withCheckedContinuation { continuation in
            let waiting = state.withLock { state -> Int? in
                if state.mayStart(key, total: total, perKey: perKey) {
                    state.start(key)
                    return nil
                }
                defer { state.nextID += 1 }
                state.waiters.append(Waiter(id: state.nextID, key: key, continuation: continuation))
                return state.nextID
            }
            guard let id = waiting else { return continuation.resume(returning: true) }
            Task {
                try? await Task.sleep(for: deadline)
                let expired = self.state.withLock { state -> Waiter? in
                    guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                    return state.waiters.remove(at: index)
                }
                expired?.continuation.resume(returning: false)
            }
        }
    }

    /// Gives a slot of `key` back and starts the first waiters now allowed to.
    func release(_ key: String) {
        let started = state.withLock { state -> [Waiter] in
            state.running -= 1
            state.byKey[key, default: 1] -= 1
            if state.byKey[key] == 0 { state.byKey[key] = nil }
            var started: [Waiter] = []
            var index = 0
            while index < state.waiters.count {
                let waiter = state.waiters[index]
                if state.mayStart(waiter.key, total: total, perKey: perKey) {
                    state.start(waiter.key)
                    started.append(state.waiters.remove(at: index))
                } else {
                    index += 1
                }
            }
            return started
        }
        for waiter in started { waiter.continuation.resume(returning: true) }
    }

    /// Runs `work` in a slot of `key`, or returns nil when no slot came within `deadline`.
    func run<T: Sendable>(_ key: String, waitingAtMost deadline: Duration, _ work: () async -> T) async -> T? {
        guard await acquire(key, waitingAtMost: deadline) else { return nil }
        let result = await work()
        release(key)
        return result
    }
}
