internal import ISchedule
internal import Logging

/// Turns the live attempt's answers into the answers the local server gets, queueing what is not
/// final (`DeliveryPolicy.disposition`): retries become retry records (answer 1.0), hand-offs to
/// e-mail iMIP records (answer 1.1). The records are committed before this returns, so the answer
/// never promises more than the store holds. Free-busy is answered live only: never queued.
struct QueueHandoff: Sendable {
    let store: any DeliveryStore
    let policy: DeliveryPolicy
    /// Whether e-mail is configured, so permanent failures can go by iMIP.
    let mailsFallbacks: Bool
    let clock: GatewayClock
    let metrics: GatewayMetrics
    let logger: Logger

    func settle(_ attempts: RecipientAnswers, of message: DeliveryMessage) async -> RecipientAnswers {
        if message.isFreeBusy { return Self.freeBusy(attempts, of: message) }
        let now = clock.milliseconds()
        let attempt = DeliveryPolicy.Attempt(route: .iSchedule, attempts: 1, createdAt: now, mailsFallbacks: mailsFallbacks)
        var answers = message.noAnswers
        var promised = message.noAnswers
        var retries: [String: (at: Int64, indices: [Int])] = [:]
        var mails: [NewDelivery] = []
        for answer in attempts {
            let recipient = message.recipients[answer.index]
            let reason = answer.item.reason
            switch policy.disposition(
                answer.status, after: attempt, hasMailbox: recipient.address?.mailbox != nil,
                heldForSecurity: attempts.heldForSecurity.contains(answer.index), now: now)
            {
            case .final, .fail, .bounce: answers.answer(answer.index, with: answer.item)
            case .retry(let at):
                let domain = recipient.address?.domain ?? ""
                retries[domain, default: (at, [])].indices.append(answer.index)
            case .handToEmail:
                mails.append(
                    .iMIP(
                        for: recipient.text, domain: recipient.address?.domain ?? "", messageID: message.messageID,
                        originator: message.originator, body: message.body, reason: reason, now: now))
                promised.answer(answer.index, .sent, description: "handed to iMIP (e-mail): \(reason)")
            }
        }
        var records: [NewDelivery] = []
        for (domain, retry) in retries.sorted(by: { $0.key < $1.key }) {
            let reason = retry.indices.first.flatMap { attempts[$0] }?.reason ?? ""
            records.append(
                NewDelivery(
                    kind: .iSchedule, domain: domain, messageID: message.messageID, originator: message.originator,
                    recipients: retry.indices.map { message.recipients[$0].text }, body: message.body,
                    notBefore: retry.at, attempts: 1, lastError: reason))
            promised.answer(retry.indices, .pending, description: "queued for retry after \(reason)")
        }
        records += mails
        guard !records.isEmpty else { return answers }
        do {
            _ = try await store.enqueue(records)
            metrics.queued(retries: retries.values.map(\.indices.count).reduce(0, +), fallbacks: mails.count)
        } catch {
            logger.error("could not queue \(records.count) deliveries: \(error)")
            promised.answer(promised.answered, .serviceUnavailable, description: "could not be queued")
        }
        return answers.merging(promised)
    }

    /// Free-busy: temporary failures are 5.1 now, and a domain without iSchedule is 3.7.
    private static func freeBusy(_ attempts: RecipientAnswers, of message: DeliveryMessage) -> RecipientAnswers {
        var answers = attempts
        for answer in attempts {
            var item = answer.item
            switch DeliveryPolicy.outcome(item.requestStatus) {
            case .temporary: item.requestStatus = .serviceUnavailable
            case .permanent where item.requestStatus == .noSchedulingSupport:
                item.requestStatus = .invalidCalendarUser
                let domain = message.recipients[answer.index].address?.domain ?? "its domain"
                item.responseDescription = "\(domain) has no iSchedule, and free-busy cannot go by e-mail"
            default: break
            }
            answers.answer(answer.index, with: item)
        }
        return answers
    }
}
