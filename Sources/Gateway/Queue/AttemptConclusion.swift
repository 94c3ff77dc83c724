internal import ISchedule

/// What one attempt of a queued scheduling message leads to, for the worker's attempts and for a
/// live attempt that outlived its answer (`LiveAttempt`) alike.
struct AttemptConclusion: Sendable {
    let policy: DeliveryPolicy
    /// Whether e-mail (iMIP) is configured, so permanent failures can go by it.
    let mailsFallbacks: Bool
    let clock: GatewayClock
    let metrics: GatewayMetrics

    init(stages: DeliveryStages, clock: GatewayClock, metrics: GatewayMetrics) {
        policy = stages.policy
        mailsFallbacks = stages.iMIP.isConfigured
        self.clock = clock
        self.metrics = metrics
    }

    /// The record's next state from its answers: wait and retry what is temporary (until
    /// exhausted), hand what is permanent (or exhausted) from iSchedule to iMIP, close what is done.
    /// A mail-filter record (it keeps the original e-mail) hands back to the MTA every recipient
    /// not delivered, a definitive refusal (3.x) included: the e-mail path was theirs.
    func update(for delivery: QueuedDelivery, message: DeliveryMessage, answers: DeliveryAnswers) -> DeliveryUpdate {
        let now = clock.milliseconds()
        let returnsMail = delivery.originalMail != nil
        var final: [String] = [], retry: [String] = [], permanent: [String] = [], reasons: [String] = []
        for (index, item) in answers {
            let text = message.recipients[index].text
            switch DeliveryPolicy.disposition(item.requestStatus) {
            case .final where returnsMail && !item.requestStatus.isSuccess && item.requestStatus.code != RequestStatus.sent.code:
                permanent.append(text); reasons.append("\(item.requestStatus.code) \(item.responseDescription ?? "")")
            case .final: final.append("\(text)=\(item.requestStatus.code)")
            case .retry: retry.append(text); reasons.append("\(item.requestStatus.code) \(item.responseDescription ?? "")")
            case .permanent: permanent.append(text); reasons.append("\(item.requestStatus.code) \(item.responseDescription ?? "")")
            }
        }
        let reason = reasons.first ?? ""
        let exhausted = policy.isExhausted(attempts: delivery.attempts + 1, createdAt: delivery.createdAt, now: now)
        if exhausted && !retry.isEmpty {
            if delivery.kind == .iSchedule { metrics.fallback(reason: "exhausted", count: retry.count) }
            permanent += retry
            retry = []
        }
        var spawn: [NewDelivery] = []
        if delivery.kind == .iSchedule, returnsMail || mailsFallbacks, !message.isFreeBusy {
            spawn = delivery.fallbackRecords(for: permanent, reason: reason, now: now)
            if !spawn.isEmpty { metrics.fallback(reason: exhausted ? "exhausted" : "permanent", count: permanent.count) }
        }
        let done = final.isEmpty ? nil : "delivered: " + final.joined(separator: " ")
        if !retry.isEmpty {
            let wait = policy.backoffMilliseconds(afterAttempts: delivery.attempts + 1, random: Double.random(in: 0..<1))
            return DeliveryUpdate(state: .pending, recipients: retry, nextAttemptAt: now + wait, error: reason, outcome: done, spawn: spawn)
        }
        if !spawn.isEmpty {
            let handed = returnsMail ? "e-mail back to the MTA for \(permanent.count)" : "iMIP for \(spawn.count)"
            return DeliveryUpdate(state: .handedOff, error: reason, outcome: (done.map { $0 + "; " } ?? "") + handed, spawn: spawn)
        }
        if !permanent.isEmpty { return DeliveryUpdate(state: .failed, error: exhausted ? "gave up: \(reason)" : reason, outcome: done) }
        return DeliveryUpdate(state: .delivered, outcome: done)
    }
}
