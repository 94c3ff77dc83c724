internal import ISchedule

/// What one attempt of a queued scheduling message leads to, for the worker's attempts and for a
/// live attempt that outlived its answer (`LiveAttempt`) alike: each recipient's
/// `DeliveryPolicy.disposition`, gathered into the record's next state.
struct AttemptConclusion: Sendable {
    let policy: DeliveryPolicy
    /// Whether e-mail (iMIP) is configured, so permanent failures can go by it.
    let mailsFallbacks: Bool
    let clock: GatewayClock
    let metrics: GatewayMetrics

    init(policy: DeliveryPolicy, mailsFallbacks: Bool, clock: GatewayClock, metrics: GatewayMetrics) {
        self.policy = policy
        self.mailsFallbacks = mailsFallbacks
        self.clock = clock
        self.metrics = metrics
    }

    init(stages: DeliveryStages, clock: GatewayClock, metrics: GatewayMetrics) {
        self.init(policy: stages.policy, mailsFallbacks: stages.iMIP.isConfigured, clock: clock, metrics: metrics)
    }

    /// The record's next state from its answers: retry what is temporary (at the time its first
    /// such recipient drew), hand what iSchedule will not deliver to e-mail (iMIP, or a
    /// mail-filter record's original e-mail back to the MTA), close what is done.
    func update(for delivery: QueuedDelivery, message: DeliveryMessage, answers: RecipientAnswers) -> DeliveryUpdate {
        let now = clock.milliseconds()
        let attempt = DeliveryPolicy.Attempt(
            route: delivery.kind == .iSchedule ? .iSchedule : .email, attempts: delivery.attempts + 1, createdAt: delivery.createdAt,
            isFreeBusy: message.isFreeBusy, returnsMail: delivery.originalMail != nil, mailsFallbacks: mailsFallbacks)
        var final: [String] = []
        var retry: [String] = []
        var handed: [String] = []
        var failed: [String] = []
        var reasons: [String] = []
        var retryAt: Int64?
        // The record's last chance, as a whole: its error says "gave up", its fallbacks count as exhausted.
        let exhausted = policy.isExhausted(attempts: attempt.attempts, createdAt: delivery.createdAt, now: now)
        for answer in answers {
            let recipient = message.recipients[answer.index]
            let disposition = policy.disposition(
                answer.status, after: attempt, hasMailbox: recipient.address?.mailbox != nil,
                heldForSecurity: answers.heldForSecurity.contains(answer.index), now: now)
            if disposition != .final { reasons.append(answer.item.reason) }
            switch disposition {
            case .final: final.append("\(recipient.text)=\(answer.status.code)")
            case .retry(let at):
                retry.append(recipient.text)
                // One time for the record (one jitter draw, as each record has its own).
                retryAt = retryAt ?? at
            case .handToEmail: handed.append(recipient.text)
            case .fail, .bounce: failed.append(recipient.text)
            }
        }
        let reason = reasons.first ?? ""
        let spawn = delivery.fallbackRecords(for: handed, reason: reason, now: now)
        if !spawn.isEmpty { metrics.fallback(reason: exhausted ? "exhausted" : "permanent", count: handed.count) }
        let done = final.isEmpty ? nil : "delivered: " + final.joined(separator: " ")
        if !retry.isEmpty {
            return DeliveryUpdate(
                state: .pending, recipients: retry, nextAttemptAt: retryAt, error: reason, outcome: done, spawn: spawn)
        }
        if !spawn.isEmpty {
            let how = delivery.originalMail != nil ? "e-mail back to the MTA for \(handed.count)" : "iMIP for \(spawn.count)"
            return DeliveryUpdate(state: .handedOff, error: reason, outcome: (done.map { $0 + "; " } ?? "") + how, spawn: spawn)
        }
        if !failed.isEmpty || !handed.isEmpty {
            return DeliveryUpdate(state: .failed, error: exhausted ? "gave up: \(reason)" : reason, outcome: done)
        }
        return DeliveryUpdate(state: .delivered, outcome: done)
    }
}
