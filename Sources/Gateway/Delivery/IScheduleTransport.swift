internal import DKIM
internal import ISchedule
internal import Logging
internal import Transport

/// Delivers over iSchedule: each recipient domain is located (static override, then SRV), the
/// domains that share a receiver go together, each receiver is served by `ReceiverClient`, and
/// every domain's circuit is kept by one rule, for the live attempt and the queue alike. A domain
/// whose circuit is open is not tried (free-busy excepted: it is answered live or not at all).
struct IScheduleTransport: DeliveryTransport {
    let discovery: ReceiverDiscovery
    let receivers: ReceiverClient
    /// Remote domains configured with a dialect or `authentication: tls`; the rest are draft-05
    /// DKIM peers, their dialect learned.
    let profiles: [String: RemoteProfile]
    let circuit: CircuitBreaker
    let metrics: GatewayMetrics
    let clock: GatewayClock
    let logger: Logger

    func deliver(_ message: DeliveryMessage, to indices: [Int]) async -> RecipientAnswers {
        await deliver(message, to: indices) { _ in }
    }

    /// Answers known without a receiver (DNS, no iSchedule, circuit open) first, then each
    /// receiver's as its transfer ends.
    func deliver(
        _ message: DeliveryMessage, to indices: [Int],
        answered: @escaping @Sendable (RecipientAnswers) async -> Void
    ) async -> RecipientAnswers {
        var answers = message.noAnswers
        var domains: [String: [Int]] = [:]
        for index in indices {
            guard let domain = message.recipients[index].address?.domain else {
                answers.answer(index, .invalidCalendarUser, description: "not a calendar user address")
                continue
            }
            domains[domain, default: []].append(index)
        }
        var receivers: [[String]: (candidates: [ReceiverDiscovery.Candidate], domains: [String])] = [:]
        for (domain, located) in await locate(Array(domains.keys)) {
            let indices = domains[domain] ?? []
            switch located {
            case .failure(let error):
                // Temporary DNS trouble is a failure for now (5.1): the queue retries it.
                metrics.delivery(domain: domain, outcome: "dns_failure", seconds: 0, detail: "\(error)", at: clock.milliseconds())
                logger.warning("discovery for \(domain) failed: \(error)")
                if error.isTemporary { account([domain], failed: true) }
                answers.answer(indices, error.isTemporary ? .serviceUnavailable : .noSchedulingSupport, description: "DNS: \(error)")
                if Self.holdsForSecurity(error, validating: discovery.validatesDNSSEC, policy: discovery.policy(for: domain)) {
                    answers.holdForSecurity(indices)
                }
            case .success(.noISchedule(let reason)):
                metrics.delivery(domain: domain, outcome: "no_ischedule", seconds: 0, detail: reason, at: clock.milliseconds())
                logger.info("no iSchedule for \(domain): \(reason)")
                answers.answer(indices, .noSchedulingSupport, description: reason)
            case .success(.receivers(let candidates)):
                if !message.isFreeBusy, circuit.isOpen(domain, now: clock.milliseconds()) {
                    answers.answer(indices, .serviceUnavailable, description: "\(domain) failed repeatedly; not tried now (circuit open)")
                    if candidates.contains(where: { $0.dane != nil }) { answers.holdForSecurity(indices) }
                    continue
                }
                receivers[candidates.map(\.url), default: (candidates, [])].domains.append(domain)
            }
        }
        if !answers.isEmpty { await answered(answers) }
        let delivered = await withTaskGroup(of: RecipientAnswers.self) { group in
            for (_, receiver) in receivers {
                let batch = receiver.domains.flatMap { domains[$0] ?? [] }.sorted()
                group.addTask {
                    let started = ContinuousClock.now
                    let profile = RemoteProfile.merged(receiver.domains.compactMap { self.profiles[$0] })
                    var result = await self.receivers.deliver(message, to: batch, candidates: receiver.candidates, profile: profile)
                    if receiver.candidates.contains(where: { $0.dane != nil }) { result.holdFailures() }
                    let elapsed = started.duration(to: .now)
                    self.record(
                        result, domains: receiver.domains,
                        seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                    return result
                }
            }
            var all = message.noAnswers
            for await part in group {
                all.merge(part)
                await answered(part)
            }
            return all
        }
        return answers.merging(delivered)
    }

    /// Whether a discovery failure is held for security (retried, never mailed instead): an answer
    /// the validator called bogus, always; under dane, any server failure from the validator (a
    /// resolver that sends no extended DNS errors says SERVFAIL for bogus answers too).
    static func holdsForSecurity(_ error: DNSError, validating: Bool, policy: TLSPolicy) -> Bool {
        if case .bogus = error { return true }
        return validating && policy.usesDANE && error.isServerFailure
    }

    /// Discovery for every domain at once.
    private func locate(_ domains: [String]) async -> [(String, Result<ReceiverDiscovery.Outcome, DNSError>)] {
        await withTaskGroup(of: (String, Result<ReceiverDiscovery.Outcome, DNSError>).self) { group in
            for domain in domains {
                group.addTask {
                    (domain, await Result { () async throws(DNSError) -> ReceiverDiscovery.Outcome in try await discovery.locate(domain: domain) })
                }
            }
            var results: [(String, Result<ReceiverDiscovery.Outcome, DNSError>)] = []
            for await result in group { results.append(result) }
            return results
        }
    }

    private func record(_ result: RecipientAnswers, domains: [String], seconds: Double) {
        let outcome =
            result.allSatisfy { $0.status.isSuccess }
            ? "delivered"
            : result.contains { $0.status == .pending } ? "pending" : "failed"
        let telling = result.first { !$0.status.isSuccess } ?? result.first { _ in true }
        let detail = telling.map { "\($0.item.requestStatus.code)" + ($0.item.responseDescription.map { " \($0)" } ?? "") } ?? ""
        let now = clock.milliseconds()
        for domain in domains { metrics.delivery(domain: domain, outcome: outcome, seconds: seconds, detail: detail, at: now) }
        account(domains, failed: result.contains { DeliveryPolicy.outcome($0.status) == .temporary })
    }

    /// The circuit rule: an attempt with any answer worth retrying is a failure of its domains;
    /// any other attempt closes their circuits.
    private func account(_ domains: [String], failed: Bool) {
        for domain in domains {
            guard failed else {
                circuit.recordSuccess(domain)
                continue
            }
            if circuit.recordFailure(domain, now: clock.milliseconds()) {
                logger.warning("\(domain): circuit open for \(circuit.cooldown / 1000) s after repeated failures")
            }
        }
    }
}
