internal import Foundation
internal import ISchedule
internal import Logging
internal import ServiceLifecycle
internal import Synchronization

/// Works the delivery queue: claims due records with a lease and hands each to its transport
/// (iSchedule re-discovers the receiver and re-signs with fresh t/x and the same
/// iSchedule-Message-ID; iMIP mails one recipient); backs off exponentially with jitter; limits
/// attempts per remote domain and leaves domains with an open circuit alone, so a dead domain
/// never holds up the others; hands what iSchedule cannot deliver to iMIP.
final class DeliveryWorker: Service, Sendable {
    let store: any DeliveryStore
    let stages: Reloadable<DeliveryStages>
    let clock: GatewayClock
    let metrics: GatewayMetrics
    let logger: Logger
    private var settings: GatewayConfiguration.DeliverySettings { stages.current.policy.settings }
    /// The lease owner of this process: its worker's claims and its live attempts' records.
    let owner: String
    private let transfers: LiveTransfers
    private let inFlight = Mutex<[String: Int]>([:])
    /// When queue statistics and the purge of old finished records last ran.
    private let housekeeping = Mutex<(statistics: Int64, purge: Int64)>((0, 0))
    private let errors: LogThrottle

    init(
        store: any DeliveryStore, stages: Reloadable<DeliveryStages>, owner: String, transfers: LiveTransfers, clock: GatewayClock,
        metrics: GatewayMetrics, logger: Logger
    ) {
        self.store = store
        self.owner = owner
        self.transfers = transfers
        self.stages = stages
        self.clock = clock
        self.metrics = metrics
        self.logger = logger
        errors = LogThrottle(clock: clock)
    }

    /// A lease owner unique to this process (host, PID, a random part).
    static func newOwner() -> String { "\(ProcessInfo.processInfo.hostName)/\(getpid())/\(UUID().uuidString.prefix(8))" }

    /// Until graceful shutdown: claim, attempt, repeat. Attempts in flight at shutdown finish first,
    /// the live attempts' transfers too (all within `timeouts.shutdown-grace`).
    func run() async throws {
        do {
            let recovered = try await store.recoverAbandonedClaims(except: owner)
            if recovered > 0 { logger.notice("took back \(recovered) deliveries claimed before a restart") }
        } catch {
            logger.error("queue: could not recover abandoned claims: \(error)")
        }
        await withDiscardingTaskGroup { group in
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                await pass(group: &group)
                try? await Task.sleep(for: .milliseconds(Int64(settings.pollInterval * 1000)))
            }
        }
        await transfers.drained()
    }

    /// One claim round.
    private func pass(group: inout DiscardingTaskGroup) async {
        let now = clock.milliseconds()
        let stages = stages.current
        let settings = stages.policy.settings
        await houseKeeping(now: now, settings: settings)
        // In-flight counts are kept per "kind:domain"; only iSchedule domains are excluded from
        // claims (iMIP goes to one SMTP server, whatever the recipient's domain).
        let limit = settings.perDomainConcurrency
        let busy = inFlight.withLock { counts in
            (
                counts.values.reduce(0, +),
                Set(counts.filter { $0.value >= limit && $0.key.hasPrefix("ischedule:") }.keys.map { String($0.dropFirst(10)) })
            )
        }
        let capacity = settings.concurrency - busy.0
        guard capacity > 0 else { return }
        let claimed: [QueuedDelivery]
        do {
            claimed = try await store.claim(
                now: now, leaseUntil: now + Int64(settings.lease * 1000), owner: owner, limit: capacity,
                excludingDomains: busy.1.union(stages.circuit.openDomains(now: now)))
        } catch is CancellationError {
            return
        } catch {
            // A claim cut short by shutdown is not a queue problem.
            if !Task.isCancelled { errors.error("claim", "queue claim failed: \(error)", logger: logger) }
            return
        }
        for delivery in claimed {
            // Its lease ran out while an attempt of this process still holds it: never a second one.
            // The claim just renewed the lease for this owner, so that attempt still finishes it.
            guard transfers.hold([delivery.id]) == [true] else { continue }
            let key = "\(delivery.kind.rawValue):\(delivery.domain)"
            let admitted = inFlight.withLock { counts in
                guard counts[key, default: 0] < limit else { return false }
                counts[key, default: 0] += 1
                return true
            }
            guard admitted else {
                // Over the domain's limit in this batch: give it back untouched.
                try? await store.finish(delivery.id, owner: owner, DeliveryUpdate(state: .pending, countsAsAttempt: false))
                transfers.release([delivery.id])
                continue
            }
            group.addTask {
                await self.attempt(delivery, with: stages)
                self.transfers.release([delivery.id])
                self.inFlight.withLock { counts in
                    counts[key, default: 1] -= 1
                    if counts[key] == 0 { counts[key] = nil }
                }
            }
        }
    }

    /// Queue metrics every few seconds; hourly, finished records older than `keep-finished` are deleted.
    private func houseKeeping(now: Int64, settings: GatewayConfiguration.DeliverySettings) async {
        let (statisticsDue, purgeDue) = housekeeping.withLock { last in
            let due = (now - last.statistics >= 5_000, now - last.purge >= 3_600_000)
            if due.0 { last.statistics = now }
            if due.1 { last.purge = now }
            return due
        }
        if statisticsDue, let statistics = try? await store.statistics() {
            metrics.queue(
                depth: Dictionary(uniqueKeysWithValues: QueuedDelivery.State.allCases.map { ($0.rawValue, statistics.counts[$0] ?? 0) }),
                oldestPendingSeconds: statistics.oldestPendingCreatedAt.map { Double(now - $0) / 1000 } ?? 0)
        }
        if purgeDue, let purged = try? await store.purgeFinished(createdBefore: now - Int64(settings.keepFinished * 1000)), purged > 0 {
            logger.info("queue: deleted \(purged) finished deliveries older than \(settings.keepFinished) s")
        }
    }

    func attempt(_ delivery: QueuedDelivery, with stages: DeliveryStages) async {
        var logger = logger
        logger[metadataKey: "ischedule-message-id"] = .string(delivery.messageID)
        logger[metadataKey: "delivery"] = .stringConvertible(delivery.id)
        let update =
            switch delivery.kind {
            case .mail: concludeMail(delivery, answer: await sendMail(delivery, with: stages.iMIP), policy: stages.policy)
            case .reinject: await stages.reinjection.attempt(delivery, policy: stages.policy)
            case .iSchedule, .iMIP: await attemptMessage(delivery, with: stages)
            }
        metrics.queueAttempt(kind: delivery.kind.rawValue, outcome: update.state.rawValue)
        let detail = update.error.map { " (\($0))" } ?? ""
        logger.info(
            "\(delivery.kind.rawValue) attempt \(delivery.attempts + 1) for \(delivery.recipients.count) recipient(s) of \(delivery.domain): \(update.state.rawValue)\(detail)"
        )
        do { try await store.finish(delivery.id, owner: owner, update) } catch {
            errors.error("finish", "could not record the attempt: \(error)", logger: logger)
        }
    }

    /// A stored scheduling message through its transport (iSchedule, or iMIP built now).
    private func attemptMessage(_ delivery: QueuedDelivery, with stages: DeliveryStages) async -> DeliveryUpdate {
        let parsed = Result { () throws(IScheduleError) -> DeliveryMessage in
            try DeliveryMessage(originator: delivery.originator, recipients: delivery.recipients, body: delivery.body, messageID: delivery.messageID)
        }
        let message: DeliveryMessage
        switch parsed {
        case .failure(let error): return DeliveryUpdate(state: .failed, error: "stored message unreadable: \(error)")
        case .success(let stored): message = stored
        }
        let transport: any DeliveryTransport = delivery.kind == .iMIP ? stages.iMIP : stages.iSchedule
        return AttemptConclusion(stages: stages, clock: clock, metrics: metrics)
            .update(for: delivery, message: message, answers: await transport.deliver(message, to: Array(message.recipients.indices)))
    }

    /// A stored e-mail to its one recipient's mailbox.
    private func sendMail(_ delivery: QueuedDelivery, with iMIP: IMIPTransport) async -> (status: RequestStatus, description: String) {
        guard let mailbox = delivery.recipients.first.flatMap(CalendarUserAddress.init)?.mailbox else {
            return (.serviceCannotHandle, "no mailbox to send to")
        }
        return await iMIP.send(delivery.body, to: mailbox)
    }

    /// A stored e-mail's next state: sent, tried again later (until exhausted), or failed.
    func concludeMail(_ delivery: QueuedDelivery, answer: (status: RequestStatus, description: String), policy: DeliveryPolicy) -> DeliveryUpdate {
        let attempt = DeliveryPolicy.Attempt(route: .email, attempts: delivery.attempts + 1, createdAt: delivery.createdAt)
        switch policy.disposition(answer.status, after: attempt, hasMailbox: true, now: clock.milliseconds()) {
        case .final: return DeliveryUpdate(state: .delivered, outcome: "\(answer.status.code) \(answer.description)")
        case .retry(let at): return DeliveryUpdate(state: .pending, nextAttemptAt: at, error: answer.description)
        case .fail(exhausted: true), .bounce(exhausted: true), .handToEmail(exhausted: true):
            return DeliveryUpdate(state: .failed, error: "gave up: \(answer.description)")
        case .fail, .bounce, .handToEmail: return DeliveryUpdate(state: .failed, error: answer.description)
        }
    }
}
