internal import Synchronization

/// Remembers each accepted signed request by what a sender cannot vary, (signing domain,
/// iSchedule-Message-ID), for as long as its signature could be accepted (protocol reference §7.5
/// step 6).
///
/// - The same signature again (`b=` compared without blanks) is a replay.
/// - A re-signed retry (new `b=`) of a request that completed gets the first answer again; of one
///   that did not complete, is processed; of one still being forwarded, is told to come back.
/// - The same id for another set of recipients is a conflict: one id names one request.
///
/// Each signing domain has a quota: a domain over it loses its own soonest-expiring entries, so a
/// sender filling the cache evicts only itself and never blocks the others.
final class ReplayCache: Sendable {
    enum Admission: Sendable, Equatable {
        case fresh
        case replay
        case inFlight
        case conflict
        case duplicate(GatewayResponse)
    }

    private struct Entry {
        var signature: String
        var recipients: String
        var expires: Int64
        var answer: GatewayResponse?
        var inFlight: Bool
    }

    /// One remembered request, as a `ReplayLedger` keeps it across restarts.
    struct Record: Sendable, Equatable {
        var domain: String
        var messageID: String
        var signature: String
        /// A fingerprint of the recipient set (empty: not known).
        var recipients: String
        var expires: Int64
        var answer: GatewayResponse?

        init(domain: String, messageID: String, signature: String, recipients: String = "", expires: Int64, answer: GatewayResponse? = nil) {
            self.domain = domain.lowercased()
            self.messageID = messageID
            self.signature = signature
            self.recipients = recipients
            self.expires = expires
            self.answer = answer
        }
    }

    private struct State {
        var domains: [String: [String: Entry]] = [:]
        var count = 0
    }

    private let state = Mutex(State())
    let capacity: Int
    let perDomain: Int

    /// - Parameters:
    ///   - capacity: entries in all.
    ///   - perDomain: entries one signing domain may hold (at most `capacity`).
    init(capacity: Int, perDomain: Int? = nil) {
        self.capacity = max(1, capacity)
        self.perDomain = min(self.capacity, max(1, perDomain ?? self.capacity))
    }

    var count: Int { state.withLock { $0.count } }

    /// Registers a verified request that passed policy. `expires` is when its signature stops
    /// being accepted; `recipients` a fingerprint of its recipient set.
    func admit(
        domain rawDomain: String, messageID: String, signature: String, recipients: String = "",
        expires: Int64, now: Int64
    ) -> Admission {
        let domain = rawDomain.lowercased()
        return state.withLock { state in
            if let existing = state.domains[domain]?[messageID], existing.expires >= now {
                if !existing.recipients.isEmpty, !recipients.isEmpty, existing.recipients != recipients { return .conflict }
                if existing.signature == signature { return .replay }
                if let answer = existing.answer { return .duplicate(answer) }
                if existing.inFlight { return .inFlight }
                state.domains[domain]?[messageID] = Entry(
                    signature: signature, recipients: recipients,
                    expires: max(existing.expires, expires), answer: nil, inFlight: true)
                return .fresh
            }
            Self.insert(
                &state, domain: domain, messageID: messageID,
                Entry(signature: signature, recipients: recipients, expires: expires, answer: nil, inFlight: true),
                now: now, capacity: capacity, perDomain: perDomain)
            return .fresh
        }
    }

    /// The request is no longer being forwarded; with an `answer`, it completed and retries get it.
    func complete(domain: String, messageID: String, answer: GatewayResponse?) {
        state.withLock { state in
            guard state.domains[domain.lowercased()]?[messageID] != nil else { return }
            state.domains[domain.lowercased()]?[messageID]?.inFlight = false
            if let answer { state.domains[domain.lowercased()]?[messageID]?.answer = answer }
        }
    }

    /// Forgets a request that was admitted but could not be recorded (the sender may send it again).
    func forget(domain: String, messageID: String) {
        state.withLock { state in
            guard state.domains[domain.lowercased()]?.removeValue(forKey: messageID) != nil else { return }
            state.count -= 1
            if state.domains[domain.lowercased()]?.isEmpty == true { state.domains[domain.lowercased()] = nil }
        }
    }

    /// Loads what a ledger kept from before a restart (expired records are skipped; quotas apply).
    func restore(_ records: [Record], now: Int64) {
        state.withLock { state in
            for record in records where record.expires >= now {
                Self.insert(
                    &state, domain: record.domain, messageID: record.messageID,
                    Entry(
                        signature: record.signature, recipients: record.recipients, expires: record.expires,
                        answer: record.answer, inFlight: false),
                    now: now, capacity: capacity, perDomain: perDomain)
            }
        }
    }

    /// Drops expired entries (also done when a quota or the capacity is reached).
    func prune(now: Int64) {
        state.withLock { Self.dropExpired(&$0, now: now) }
    }

    private static func insert(
        _ state: inout State, domain: String, messageID: String, _ entry: Entry, now: Int64,
        capacity: Int, perDomain: Int
    ) {
        if state.domains[domain]?[messageID] == nil {
            if state.domains[domain, default: [:]].count >= perDomain {
                dropExpired(&state, now: now)
                evict(&state, from: domain, keeping: perDomain - max(1, perDomain / 10))
            }
            if state.count >= capacity {
                dropExpired(&state, now: now)
                // Still full: the domain holding most gives way (never everyone).
                if state.count >= capacity, let largest = state.domains.max(by: { $0.value.count < $1.value.count })?.key {
                    evict(&state, from: largest, keeping: max(0, state.domains[largest, default: [:]].count - max(1, capacity / 100)))
                }
            }
            state.count += 1
        }
        state.domains[domain, default: [:]][messageID] = entry
    }

    /// Keeps the `keeping` latest-expiring entries of `domain` (in-flight ones are kept first).
    private static func evict(_ state: inout State, from domain: String, keeping: Int) {
        guard let entries = state.domains[domain], entries.count > keeping else { return }
        let doomed = entries.sorted { ($0.value.inFlight ? 1 : 0, $0.value.expires) < ($1.value.inFlight ? 1 : 0, $1.value.expires) }
            .prefix(entries.count - keeping)
        for (messageID, _) in doomed { state.domains[domain]?[messageID] = nil }
        state.count -= doomed.count
    }

    private static func dropExpired(_ state: inout State, now: Int64) {
        for (domain, entries) in state.domains {
            let live = entries.filter { $0.value.expires >= now || $0.value.inFlight }
            state.count -= entries.count - live.count
            state.domains[domain] = live.isEmpty ? nil : live
        }
    }
}
