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
            if attempts.count > capacity, let oldest = attempts.min(by: { $0.value.at < $1.value.at })?.key {
                attempts[oldest] = nil
            }
        }
    }

    var snapshot: [String: Attempt] { attempts.withLock { $0 } }
}
