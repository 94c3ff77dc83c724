internal import Logging
internal import Synchronization

/// The replay defence of the inbound stage: the in-memory `ReplayCache` in front, the durable
/// `ReplayLedger` behind it (written before anything is forwarded, read back at start), and their
/// hourly pruning.
final class ReplayProtection: Sendable {
    let cache: ReplayCache
    let ledger: any ReplayLedger
    private let clock: GatewayClock
    private let logger: Logger
    private let lastPrune = Mutex<Int64>(0)
    /// The last time the ledger could not record something, and why.
    private let lastFailure = Mutex<(at: Int64, problem: String)?>(nil)

    /// A ledger write that failed within the last 2 s (the store's health probe interval): the
    /// gateway is not ready until the store commits again.
    func recentFailure(now: Int64) -> String? {
        lastFailure.withLock { failure in failure.flatMap { now - $0.at < 2 ? $0.problem : nil } }
    }

    init(cache: ReplayCache, ledger: any ReplayLedger, clock: GatewayClock, logger: Logger) {
        self.cache = cache
        self.ledger = ledger
        self.clock = clock
        self.logger = logger
    }

    /// Loads what the ledger kept from before a restart.
    func restore() async throws {
        let now = clock.seconds
        let remembered = try await ledger.load(now: now)
        cache.restore(remembered, now: now)
        if !remembered.isEmpty { logger.info("replay cache: \(remembered.count) signed requests remembered from before the restart") }
    }

    enum Admission: Sendable {
        case fresh
        case replay
        case inFlight
        case conflict
        case duplicate(GatewayResponse)
        /// The ledger could not record it: nothing may be forwarded.
        case unavailable
    }

    /// Registers a verified request that passed policy; a fresh one is on disk before this returns.
    func admit(domain: String, messageID: String, signature: String, recipients: String, expires: Int64) async -> Admission {
        let now = clock.seconds
        await pruneIfDue(now: now)
        switch cache.admit(domain: domain, messageID: messageID, signature: signature, recipients: recipients, expires: expires, now: now) {
        case .replay: return .replay
        case .inFlight: return .inFlight
        case .conflict: return .conflict
        case .duplicate(let answer): return .duplicate(answer)
        case .fresh:
            let existing: ReplayCache.Record?
            do {
                existing = try await ledger.remember(
                    ReplayCache.Record(
                        domain: domain, messageID: messageID, signature: signature,
                        recipients: recipients, expires: expires), now: now)
            } catch {
                cache.forget(domain: domain, messageID: messageID)
                lastFailure.withLock { $0 = (now, "replay ledger cannot commit: \(error)") }
                logger.error("replay ledger unavailable: \(error)")
                return .unavailable
            }
            guard let existing else { return .fresh }
            // The ledger knows this request: another instance sharing it has (or had) it, or the
            // cache forgot it (quotas) while the ledger keeps it until its x=.
            cache.forget(domain: domain, messageID: messageID)
            return Self.judge(existing, signature: signature, recipients: recipients)
        }
    }

    /// The verdict on a request whose (domain, message id) the ledger recorded first.
    static func judge(_ existing: ReplayCache.Record, signature: String, recipients: String) -> Admission {
        if !existing.recipients.isEmpty, !recipients.isEmpty, existing.recipients != recipients { return .conflict }
        if existing.signature == signature { return .replay }
        if let answer = existing.answer { return .duplicate(answer) }
        return .inFlight
    }

    /// The request is no longer being forwarded; with an `answer` (a final one), retries get it.
    func complete(domain: String, messageID: String, answer: GatewayResponse?) async {
        cache.complete(domain: domain, messageID: messageID, answer: answer)
        do {
            if let answer {
                try await ledger.complete(domain: domain, messageID: messageID, answer: answer)
            } else {
                try await ledger.release(domain: domain, messageID: messageID)
            }
        } catch {
            logger.error("replay ledger: could not record the outcome: \(error)")
        }
    }

    private func pruneIfDue(now: Int64) async {
        let due = lastPrune.withLock { last in
            guard now - last >= 3_600 else { return false }
            last = now
            return true
        }
        guard due else { return }
        cache.prune(now: now)
        _ = try? await ledger.prune(now: now)
    }
}
