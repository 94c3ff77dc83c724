internal import ISchedule
internal import Logging

/// Turns the live attempt's answers into the answers the local server gets, queueing what is not
/// final: temporary failures become retry records (answer 1.0), permanent ones iMIP records
/// (answer 1.1). The records are committed before this returns, so the answer never promises more
/// than the store holds. Free-busy is answered live only: never queued, never e-mailed.
struct QueueHandoff: Sendable {
    let store: any DeliveryStore
    let policy: DeliveryPolicy
    /// Whether e-mail is configured, so permanent failures can go by iMIP.
    let mailsFallbacks: Bool
    let clock: GatewayClock
    let metrics: GatewayMetrics
    let logger: Logger

    func settle(_ attempts: DeliveryAnswers, of message: DeliveryMessage) async -> DeliveryAnswers {
        if message.isFreeBusy { return attempts.map { ($0.index, Self.freeBusy($0.item, recipient: message.recipients[$0.index])) } }
        let now = clock.milliseconds()
        var answers: DeliveryAnswers = []
        var retries: [String: [Int]] = [:]
        var mailed: [Int] = []
        var reasons: [Int: String] = [:]
        for (index, item) in attempts {
            reasons[index] = "\(item.requestStatus.code) \(item.responseDescription ?? "")"
            switch DeliveryPolicy.disposition(item.requestStatus) {
            case .final: answers.append((index, item))
            case .retry: retries[message.recipients[index].address?.domain ?? "", default: []].append(index)
            case .permanent:
                if mailsFallbacks, message.recipients[index].address?.scheme == "mailto" {
                    mailed.append(index)
                } else {
                    answers.append((index, item))
                }
            }
        }
        var records: [NewDelivery] = []
        var promised: DeliveryAnswers = []
        for (domain, indices) in retries.sorted(by: { $0.key < $1.key }) {
            let reason = indices.first.flatMap { reasons[$0] } ?? ""
            records.append(NewDelivery(kind: .iSchedule, domain: domain, messageID: message.messageID, originator: message.originator,
                                       recipients: indices.map { message.recipients[$0].text }, body: message.body,
                                       notBefore: now + policy.backoffMilliseconds(afterAttempts: 1, random: Double.random(in: 0..<1)),
                                       attempts: 1, lastError: reason))
            promised += message.answers(indices, .pending, "queued for retry after \(reason)")
        }
        for index in mailed {
            let recipient = message.recipients[index]
            records.append(NewDelivery(kind: .iMIP, domain: recipient.address?.domain ?? "", messageID: message.messageID,
                                       originator: message.originator, recipients: [recipient.text], body: message.body,
                                       notBefore: now, lastError: reasons[index]))
            promised += message.answers([index], .sent, "handed to iMIP (e-mail): \(reasons[index] ?? "")")
        }
        guard !records.isEmpty else { return answers }
        do {
            _ = try await store.enqueue(records)
            metrics.queued(retries: retries.values.map(\.count).reduce(0, +), fallbacks: mailed.count)
            return answers + promised
        } catch {
            logger.error("could not queue \(records.count) deliveries: \(error)")
            return answers + promised.map { ($0.index, ScheduleResponse.Item(recipient: $0.item.recipient, requestStatus: .serviceUnavailable,
                                                                             responseDescription: "could not be queued")) }
        }
    }

    /// Free-busy: temporary failures are 5.1 now, and a domain without iSchedule is 3.7.
    private static func freeBusy(_ item: ScheduleResponse.Item, recipient: ScheduleRequestHead.Recipient) -> ScheduleResponse.Item {
        var item = item
        switch DeliveryPolicy.disposition(item.requestStatus) {
        case .retry: item.requestStatus = .serviceUnavailable
        case .permanent where item.requestStatus == .noSchedulingSupport:
            item.requestStatus = .invalidCalendarUser
            item.responseDescription = "\(recipient.address?.domain ?? "its domain") has no iSchedule, and free-busy cannot go by e-mail"
        default: break
        }
        return item
    }
}
