internal import DKIM
internal import Foundation
internal import ISchedule
internal import Logging
public import ServiceLifecycle
internal import Synchronization
internal import Transport

/// Works the delivery queue: claims due records with a lease, re-discovers the receiver, re-signs
/// (fresh t/x, the same iSchedule-Message-ID) and sends; backs off exponentially with jitter;
/// limits attempts per remote domain and opens a domain's circuit after repeated failures, so a
/// dead domain never holds up the others; hands what iSchedule cannot deliver to iMIP.
public final class DeliveryWorker: Service, Sendable {
    let runtime: GatewayRuntime
    let remote: RemoteDelivery
    let policy: DeliveryPolicy
    var circuit: CircuitBreaker { runtime.circuit }
    private let owner = "\(ProcessInfo.processInfo.hostName)/\(getpid())/\(UUID().uuidString.prefix(8))"
    private let inFlight = Mutex<[String: Int]>([:])
    /// When queue statistics and the purge of old finished records last ran.
    private let housekeeping = Mutex<(statistics: Int64, purge: Int64)>((0, 0))

    public init(runtime: GatewayRuntime, remote: RemoteDelivery) {
        self.runtime = runtime
        self.remote = remote
        policy = DeliveryPolicy(settings: runtime.configuration.delivery)
    }

    /// Until graceful shutdown: claim, attempt, repeat. Attempts in flight at shutdown finish first.
    public func run() async throws {
        let settings = runtime.configuration.delivery
        do {
            let recovered = try await runtime.store.recoverAbandonedClaims()
            if recovered > 0 { runtime.logger.notice("took back \(recovered) deliveries claimed before a restart") }
        } catch {
            runtime.logger.error("queue: could not recover abandoned claims: \(error)")
        }
        await withDiscardingTaskGroup { group in
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                await pass(group: &group)
                try? await Task.sleep(for: .milliseconds(Int64(settings.pollInterval * 1000)))
            }
        }
    }

    /// One claim round.
    private func pass(group: inout DiscardingTaskGroup) async {
        let settings = runtime.configuration.delivery
        let now = runtime.nowMilliseconds()
        await houseKeeping(now: now)
        // In-flight counts are kept per "kind:domain"; only iSchedule domains are excluded from
        // claims (iMIP goes to one SMTP server, whatever the recipient's domain).
        let busy = inFlight.withLock { counts in
            (counts.values.reduce(0, +),
             Set(counts.filter { $0.value >= settings.perDomainConcurrency && $0.key.hasPrefix("ischedule:") }.keys.map { String($0.dropFirst(10)) }))
        }
        let capacity = settings.concurrency - busy.0
        guard capacity > 0 else { return }
        let claimed: [QueuedDelivery]
        do {
            claimed = try await runtime.store.claim(now: now, leaseUntil: now + Int64(settings.lease * 1000), owner: owner, limit: capacity,
                                                    excludingDomains: busy.1.union(circuit.openDomains(now: now)))
        } catch {
            runtime.logger.error("queue claim failed: \(error)")
            return
        }
        for delivery in claimed {
            let key = "\(delivery.kind.rawValue):\(delivery.domain)"
            let admitted = inFlight.withLock { counts in
                guard counts[key, default: 0] < settings.perDomainConcurrency else { return false }
                counts[key, default: 0] += 1
                return true
            }
            guard admitted else {
                // Over the domain's limit in this batch: give it back untouched.
                try? await runtime.store.finish(delivery.id, owner: owner, DeliveryUpdate(state: .pending, countsAsAttempt: false))
                continue
            }
            group.addTask {
                await self.attempt(delivery)
                self.inFlight.withLock { counts in
                    counts[key, default: 1] -= 1
                    if counts[key] == 0 { counts[key] = nil }
                }
            }
        }
    }

    /// Queue metrics every few seconds; hourly, finished records older than `keep-finished` and
    /// expired replay-cache entries are deleted.
    private func houseKeeping(now: Int64) async {
        let (statisticsDue, purgeDue) = housekeeping.withLock { last in
            let due = (now - last.statistics >= 5_000, now - last.purge >= 3_600_000)
            if due.0 { last.statistics = now }
            if due.1 { last.purge = now }
            return due
        }
        if statisticsDue, let statistics = try? await runtime.store.statistics() {
            runtime.metrics.queue(statistics, nowMilliseconds: now)
        }
        if purgeDue {
            let seconds = now / 1000
            runtime.replayCache.prune(now: seconds)
            _ = try? await runtime.replayLedger.prune(now: seconds)
            let cutoff = now - Int64(runtime.configuration.delivery.keepFinished * 1000)
            if let purged = try? await runtime.store.purgeFinished(createdBefore: cutoff), purged > 0 {
                runtime.logger.info("queue: deleted \(purged) finished deliveries older than \(runtime.configuration.delivery.keepFinished) s")
            }
        }
    }

    func attempt(_ delivery: QueuedDelivery) async {
        var logger = runtime.logger
        logger[metadataKey: "ischedule-message-id"] = .string(delivery.messageID)
        logger[metadataKey: "delivery"] = .stringConvertible(delivery.id)
        let update = switch delivery.kind {
        case .iSchedule: await attemptISchedule(delivery, logger: logger)
        case .iMIP: await attemptIMIP(delivery)
        }
        runtime.metrics.queueAttempt(kind: delivery.kind.rawValue, outcome: update.state.rawValue)
        let detail = update.error.map { " (\($0))" } ?? ""
        logger.info("\(delivery.kind.rawValue) attempt \(delivery.attempts + 1) for \(delivery.recipients.count) recipient(s) of \(delivery.domain): \(update.state.rawValue)\(detail)")
        do { try await runtime.store.finish(delivery.id, owner: owner, update) } catch {
            logger.error("could not record the attempt: \(error)")
        }
    }

    private func attemptISchedule(_ delivery: QueuedDelivery, logger: Logger) async -> DeliveryUpdate {
        let now = runtime.nowMilliseconds()
        let request: ScheduleRequest
        do {
            request = try ScheduleRequest(headers: [("Originator", delivery.originator), ("Recipient", delivery.recipients.joined(separator: ",")),
                                                    ("Content-Type", "text/calendar; charset=utf-8")], body: delivery.body, requireVersion: false)
        } catch {
            return DeliveryUpdate(state: .failed, error: "stored message unreadable: \(error)")
        }
        guard let domain = request.head.originator.domain, let signer = runtime.keyring.signers[domain] else {
            return DeliveryUpdate(state: .failed, error: "no signing key for \(delivery.originator) any more")
        }
        let located: Result<ReceiverDiscovery.Outcome, DNSError>
        do throws(DNSError) { located = .success(try await runtime.discovery.locate(domain: delivery.domain)) } catch {
            located = .failure(error)
        }
        let candidates: [ReceiverDiscovery.Candidate]
        switch located {
        case .success(.receivers(let found)): candidates = found
        case .success(.noISchedule(let reason)):
            return conclude(delivery, request: request, final: [], retry: [], permanent: delivery.recipients, reason: reason, now: now)
        case .failure(let error) where error.isTemporary:
            circuit.recordFailure(delivery.domain, now: now)
            return conclude(delivery, request: request, final: [], retry: delivery.recipients, permanent: [], reason: "DNS: \(error)", now: now)
        case .failure(let error):
            return conclude(delivery, request: request, final: [], retry: [], permanent: delivery.recipients, reason: "DNS: \(error)", now: now)
        }
        let message = RemoteDelivery.Message(request: request, body: delivery.body, messageID: delivery.messageID, signer: signer)
        let answers = await remote.deliver(message, indices: Array(request.head.recipients.indices), candidates: candidates)
        var final: [String] = [], retry: [String] = [], permanent: [String] = []
        var reasons: [String] = []
        for (index, item) in answers {
            let text = request.head.recipients[index].text
            switch DeliveryPolicy.disposition(item.requestStatus) {
            case .final: final.append("\(text)=\(item.requestStatus.code)")
            case .retry: retry.append(text); reasons.append("\(item.requestStatus.code) \(item.responseDescription ?? "")")
            case .permanent: permanent.append(text); reasons.append("\(item.requestStatus.code) \(item.responseDescription ?? "")")
            }
        }
        if retry.isEmpty { circuit.recordSuccess(delivery.domain) } else if circuit.recordFailure(delivery.domain, now: now) {
            logger.warning("\(delivery.domain): circuit open for \(runtime.configuration.delivery.circuitCooldown) s after repeated failures")
        }
        return conclude(delivery, request: request, final: final, retry: retry, permanent: permanent,
                        reason: reasons.first ?? "", now: now)
    }

    /// The record's next state: wait and retry what is temporary (until exhausted), hand what is
    /// permanent (or exhausted) to iMIP, close what is done.
    private func conclude(_ delivery: QueuedDelivery, request: ScheduleRequest, final: [String], retry: [String], permanent: [String],
                          reason: String, now: Int64) -> DeliveryUpdate {
        var retry = retry, permanent = permanent
        let exhausted = policy.isExhausted(attempts: delivery.attempts + 1, createdAt: delivery.createdAt, now: now)
        if exhausted && !retry.isEmpty {
            runtime.metrics.fallback(reason: "exhausted", count: retry.count)
            permanent += retry
            retry = []
        }
        var spawn: [NewDelivery] = []
        let mailable = runtime.configuration.imip != nil && request.message.componentType != "VFREEBUSY"
        if mailable {
            for text in permanent {
                let address = CalendarUserAddress(text)
                guard address?.scheme == "mailto" else { continue }
                spawn.append(NewDelivery(kind: .iMIP, domain: address?.domain ?? delivery.domain, messageID: delivery.messageID,
                                         originator: delivery.originator, recipients: [text], body: delivery.body, notBefore: now,
                                         lastError: reason))
            }
            if !spawn.isEmpty { runtime.metrics.fallback(reason: exhausted ? "exhausted" : "permanent", count: spawn.count) }
        }
        let done = final.isEmpty ? nil : "delivered: " + final.joined(separator: " ")
        if !retry.isEmpty {
            let wait = policy.backoffMilliseconds(afterAttempts: delivery.attempts + 1, random: Double.random(in: 0..<1))
            return DeliveryUpdate(state: .pending, recipients: retry, nextAttemptAt: now + wait, error: reason, outcome: done, spawn: spawn)
        }
        if !spawn.isEmpty {
            return DeliveryUpdate(state: .handedOff, error: reason, outcome: (done.map { $0 + "; " } ?? "") + "iMIP for \(spawn.count)", spawn: spawn)
        }
        if !permanent.isEmpty { return DeliveryUpdate(state: .failed, error: reason, outcome: done) }
        return DeliveryUpdate(state: .delivered, outcome: done)
    }

    private func attemptIMIP(_ delivery: QueuedDelivery) async -> DeliveryUpdate {
        let now = runtime.nowMilliseconds()
        switch await IMIPSender(runtime: runtime).send(delivery) {
        case .sent:
            return DeliveryUpdate(state: .delivered, outcome: "sent by e-mail")
        case .permanent(let reason):
            return DeliveryUpdate(state: .failed, error: reason)
        case .temporary(let reason):
            if policy.isExhausted(attempts: delivery.attempts + 1, createdAt: delivery.createdAt, now: now) {
                return DeliveryUpdate(state: .failed, error: "gave up: \(reason)")
            }
            let wait = policy.backoffMilliseconds(afterAttempts: delivery.attempts + 1, random: Double.random(in: 0..<1))
            return DeliveryUpdate(state: .pending, nextAttemptAt: now + wait, error: reason)
        }
    }
}
