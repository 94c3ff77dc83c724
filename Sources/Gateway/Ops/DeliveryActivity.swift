internal import Synchronization

/// The last delivery attempt to each remote domain, for the status report: bounded (the least
/// recently attempted domains are forgotten first), kept in memory only.
final class DeliveryActivity: Sendable {
    struct Attempt: Sendable {
        /// Unix milliseconds.
        let at: Int64
        let outcome: String
        let detail: String
    }

    private let attempts = Mutex<[String: Attempt]>([:])
    private let capacity: Int

    init(capacity: Int = 2048) { self.capacity = capacity }

    func record(domain: String, outcome: String, detail: String, at: Int64) {
        attempts.withLock { attempts in
            attempts[domain] = Attempt(at: at, outcome: outcome, detail: detail)
            // Over capacity, the least recently attempted quarter goes at once: one sort per
            // capacity/4 new domains, not a scan of all of them for every one.
            if attempts.count > capacity {
                let stale = attempts.sorted { $0.value.at < $1.value.at }.prefix(attempts.count - capacity * 3 / 4)
                for (name, _) in stale { attempts[name] = nil }
            }
        }
    }

    var snapshot: [String: Attempt] { attempts.withLock { $0 } }
}
