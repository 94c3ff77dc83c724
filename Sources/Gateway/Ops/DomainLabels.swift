internal import Synchronization

/// Bounds the `domain` label of the per-domain metrics: a strange domain must not grow `/metrics`
/// without limit (3,000 invited domains once made 3,002 label values). At most `capacity`
/// domains get a label of their own: the first half at their first delivery (a gateway with a
/// few partners sees each by name), the second half only once a domain has had `promotion`
/// deliveries (so a one-off mass invitation cannot take them); every other domain counts as
/// `other`. Candidates are counted in a table of at most `8 × capacity` entries, the least
/// counted forgotten first.
final class DomainLabels: Sendable {
    static let other = "other"
    let capacity: Int
    let promotion: Int

    private struct State {
        var labelled: Set<String> = []
        var candidates: [String: Int] = [:]
    }

    private let state = Mutex(State())

    init(capacity: Int = 100, promotion: Int = 3) {
        self.capacity = capacity
        self.promotion = promotion
    }

    /// The label value for one more event of `domain`.
    func label(for domain: String) -> String {
        state.withLock { state in
            if state.labelled.contains(domain) { return domain }
            guard state.labelled.count < capacity else { return Self.other }
            let count = state.candidates[domain, default: 0] + 1
            if count >= promotion || state.labelled.count < capacity / 2 {
                state.candidates[domain] = nil
                state.labelled.insert(domain)
                return domain
            }
            if state.candidates[domain] == nil, state.candidates.count >= capacity * 8 {
                // Forget the `capacity` least counted at once (a scan for every new domain would be quadratic).
                let forgotten = state.candidates.sorted { $0.value < $1.value }.prefix(capacity).map(\.key)
                for key in forgotten { state.candidates[key] = nil }
            }
            state.candidates[domain] = count
            return Self.other
        }
    }
}
