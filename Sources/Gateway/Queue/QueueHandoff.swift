internal import Foundation
public import ISchedule

/// Turns the live attempt's answers into the answers the local server gets, queueing what is not
/// final: temporary failures become retry records (answer 1.0), permanent ones iMIP records
/// (answer 1.1). The records are committed before this returns, so the answer never promises more
/// than the store holds. Free-busy is answered live only: never queued, never e-mailed.
public struct QueueHandoff: Sendable {
    let runtime: GatewayRuntime

    public init(runtime: GatewayRuntime) {
        self.runtime = runtime
    }

    /// The live result for one remote recipient.
    public struct Attempt: Sendable {
        public var index: Int
        public var domain: String
        public var item: ScheduleResponse.Item
    }

    public func settle(_ attempts: [Attempt], request: ScheduleRequest, body: [UInt8],
                       messageID: String) async -> [(index: Int, item: ScheduleResponse.Item)] {
        let recipients = request.head.recipients
        if request.message.componentType == "VFREEBUSY" {
            return attempts.map { attempt in
                var item = attempt.item
                switch DeliveryPolicy.disposition(item.requestStatus) {
                case .retry: item.requestStatus = .serviceUnavailable
                case .permanent where item.requestStatus == .noSchedulingSupport:
                    item.requestStatus = .invalidCalendarUser
                    item.responseDescription = "\(attempt.domain) has no iSchedule, and free-busy cannot go by e-mail"
                default: break
                }
                return (attempt.index, item)
            }
        }
        let now = runtime.nowMilliseconds()
        let policy = DeliveryPolicy(settings: runtime.configuration.delivery)
        var answers: [(index: Int, item: ScheduleResponse.Item)] = []
        var retries: [String: [Attempt]] = [:]
        var mailed: [Attempt] = []
        for attempt in attempts {
            switch DeliveryPolicy.disposition(attempt.item.requestStatus) {
            case .final: answers.append((attempt.index, attempt.item))
            case .retry: retries[attempt.domain, default: []].append(attempt)
            case .permanent:
                if runtime.configuration.imip != nil, recipients[attempt.index].address?.scheme == "mailto" {
                    mailed.append(attempt)
                } else {
                    answers.append((attempt.index, attempt.item))
                }
            }
        }
        var records: [NewDelivery] = []
        var promised: [(index: Int, item: ScheduleResponse.Item)] = []
        for (domain, group) in retries.sorted(by: { $0.key < $1.key }) {
            let reason = group.map { "\($0.item.requestStatus.code) \($0.item.responseDescription ?? "")" }.first ?? ""
            records.append(NewDelivery(kind: .iSchedule, domain: domain, messageID: messageID, originator: request.head.originator.text,
                                       recipients: group.map { recipients[$0.index].text }, body: body,
                                       notBefore: now + policy.backoffMilliseconds(afterAttempts: 1, random: Double.random(in: 0..<1)),
                                       attempts: 1, lastError: reason))
            promised += group.map { ($0.index, Self.item(recipients[$0.index].text, .pending, "queued for retry after \(reason)")) }
        }
        for attempt in mailed {
            let text = recipients[attempt.index].text
            records.append(NewDelivery(kind: .iMIP, domain: recipients[attempt.index].address?.domain ?? attempt.domain,
                                       messageID: messageID, originator: request.head.originator.text, recipients: [text], body: body,
                                       notBefore: now, lastError: attempt.item.responseDescription))
            promised.append((attempt.index, Self.item(text, .sent, "handed to iMIP (e-mail): \(attempt.item.requestStatus.code) "
                                                                 + (attempt.item.responseDescription ?? ""))))
        }
        guard !records.isEmpty else { return answers }
        do {
            _ = try await runtime.store.enqueue(records)
            runtime.metrics.queued(retries: retries.values.map(\.count).reduce(0, +), fallbacks: mailed.count)
            return answers + promised
        } catch {
            runtime.logger.error("could not queue \(records.count) deliveries: \(error)")
            return answers + promised.map { ($0.index, Self.item($0.item.recipient, .serviceUnavailable, "could not be queued")) }
        }
    }

    static func item(_ recipient: String, _ status: RequestStatus, _ description: String) -> ScheduleResponse.Item {
        ScheduleResponse.Item(recipient: recipient, requestStatus: status, responseDescription: description)
    }
}
