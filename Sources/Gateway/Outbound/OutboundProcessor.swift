internal import DKIM
internal import Foundation
internal import ISchedule
internal import Logging
internal import Transport

/// Takes scheduling messages from the local CalDAV server and answers with one
/// `schedule-response`: hosted recipients are forwarded to their upstream, remote ones are
/// discovered, grouped by receiver and delivered over signed iSchedule.
public struct OutboundProcessor: Sendable {
    let runtime: GatewayRuntime
    let forwarder: UpstreamForwarder
    let remote: RemoteDelivery

    public init(runtime: GatewayRuntime, remote: RemoteDelivery) {
        self.runtime = runtime
        forwarder = UpstreamForwarder(runtime: runtime)
        self.remote = remote
    }

    public func handle(_ incoming: IncomingRequest) async -> GatewayResponse {
        if let refusal = OutboundIntake(intake: runtime.configuration.intake).refusal(incoming) {
            return refuse(IScheduleError(.originatorDenied, refusal), incoming: incoming)
        }
        let request: ScheduleRequest
        do { request = try ScheduleRequest(headers: incoming.headers, body: incoming.body, requireVersion: false) } catch {
            return refuse(error, incoming: incoming)
        }
        guard let originatorDomain = request.head.originator.domain, let signer = runtime.keyring.signers[originatorDomain] else {
            return refuse(IScheduleError(.originatorDenied,
                                         "Originator \(request.head.originator) is not in a domain this gateway signs for"),
                          incoming: incoming)
        }
        let messageID = request.head.messageID ?? UUID().uuidString.lowercased()
        var logger = runtime.logger
        logger[metadataKey: "ischedule-message-id"] = .string(messageID)

        var outcomes = RecipientOutcomes(recipients: request.head.recipients)
        var hosted: [String: [Int]] = [:]
        var remoteDomains: [String: [Int]] = [:]
        for (index, recipient) in request.head.recipients.enumerated() {
            guard let domain = recipient.address?.domain else {
                outcomes.answer(index, .invalidCalendarUser, description: "not a calendar user address")
                continue
            }
            if let local = runtime.configuration.domain(domain) {
                if local.upstream != nil {
                    hosted[local.name, default: []].append(index)
                } else {
                    outcomes.answer(index, .invalidCalendarUser, description: "\(domain) is ours but has no upstream")
                }
            } else {
                remoteDomains[domain, default: []].append(index)
            }
        }

        let upstreamMessage = UpstreamForwarder.Message(
            originator: request.head.originator.text,
            contentType: "text/calendar; charset=utf-8; component=\(request.message.componentType); method=\(request.message.method.rawValue)",
            messageID: messageID, body: incoming.body)
        let remoteMessage = RemoteDelivery.Message(request: request, body: incoming.body, messageID: messageID, signer: signer)
        let (hostedGroups, remoteGroups, taskLogger) = (hosted, remoteDomains, logger)
        let answers = await withTaskGroup(of: RemoteDelivery.Answers.self) { group in
            for (domain, indices) in hostedGroups {
                guard let local = runtime.configuration.domain(domain) else { continue }
                group.addTask { await forwardHosted(upstreamMessage, indices: indices, request: request, to: local) }
            }
            group.addTask {
                // The live attempt, then the queue takes what is not final (answers 1.0 / 1.1).
                let live = await deliverRemote(remoteMessage, domains: remoteGroups, logger: taskLogger)
                let attempts = live.map { index, item in
                    QueueHandoff.Attempt(index: index, domain: request.head.recipients[index].address?.domain ?? "", item: item)
                }
                return await QueueHandoff(runtime: runtime).settle(attempts, request: request, body: incoming.body, messageID: messageID)
            }
            var answers: RemoteDelivery.Answers = []
            for await part in group { answers += part }
            return answers
        }
        var response = outcomes.response()
        for (index, item) in answers { response.items[index] = item }
        runtime.metrics.request(direction: "outbound", outcome: "ok")
        let statuses = response.items.map { "\($0.recipient)=\($0.requestStatus.code)" }.joined(separator: " ")
        logger.info("outbound \(request.message.method.rawValue) \(request.message.componentType) from \(request.head.originator): \(statuses)")
        return .schedule(response)
    }

    private func forwardHosted(_ message: UpstreamForwarder.Message, indices: [Int], request: ScheduleRequest,
                               to domain: GatewayConfiguration.LocalDomain) async -> RemoteDelivery.Answers {
        let recipients = request.head.recipients
        var outcomes = RecipientOutcomes(recipients: recipients)
        switch await forwarder.forward(message, recipients: indices.map { recipients[$0].text }, to: domain) {
        case .answered(let response): outcomes.merge(response, for: indices, source: "the \(domain.name) upstream")
        case .refused(let refusal):
            outcomes.answer(indices, refusal.status >= 500 ? .serviceUnavailable : .serviceCannotHandle,
                            description: "the \(domain.name) upstream answered HTTP \(refusal.status)")
        case .failed(let reason): outcomes.answer(indices, .serviceUnavailable, description: reason)
        }
        let response = outcomes.response()
        return indices.map { ($0, response.items[$0]) }
    }

    /// Discovers every remote domain, groups domains that share a receiver, delivers per receiver.
    private func deliverRemote(_ message: RemoteDelivery.Message, domains: [String: [Int]], logger: Logger) async -> RemoteDelivery.Answers {
        guard !domains.isEmpty else { return [] }
        let recipients = message.request.head.recipients
        let located = await withTaskGroup(of: (String, Result<ReceiverDiscovery.Outcome, DNSError>).self) { group in
            for domain in domains.keys {
                group.addTask {
                    // Never `return` from inside a typed-throws do/catch in a task-group child:
                    // Swift 6.3.1 at -O miscompiles that shape (README, "Release builds").
                    let result: Result<ReceiverDiscovery.Outcome, DNSError>
                    do throws(DNSError) { result = .success(try await runtime.discovery.locate(domain: domain)) } catch {
                        result = .failure(error)
                    }
                    return (domain, result)
                }
            }
            var results: [(String, Result<ReceiverDiscovery.Outcome, DNSError>)] = []
            for await result in group { results.append(result) }
            return results
        }
        var answers: RemoteDelivery.Answers = []
        var receivers: [[String]: (candidates: [ReceiverDiscovery.Candidate], domains: [String])] = [:]
        for (domain, result) in located {
            let indices = domains[domain] ?? []
            func answerAll(_ status: RequestStatus, _ text: String) {
                answers += RemoteDelivery.uniform(indices, of: recipients, status, text)
            }
            switch result {
            case .failure(let error):
                // Temporary DNS trouble is a failure now (5.1); the delivery queue will retry it.
                runtime.metrics.delivery(domain: domain, outcome: "dns_failure", seconds: 0)
                logger.warning("discovery for \(domain) failed: \(error)")
                answerAll(error.isTemporary ? .serviceUnavailable : .noSchedulingSupport, "DNS: \(error)")
            case .success(.noISchedule(let reason)):
                runtime.metrics.delivery(domain: domain, outcome: "no_ischedule", seconds: 0)
                answerAll(.noSchedulingSupport, reason)
            case .success(.receivers(let candidates)):
                // A domain whose circuit is open is not tried live: its recipients go straight
                // to the queue (pending) instead of waiting out its timeouts.
                if message.request.message.componentType != "VFREEBUSY", runtime.circuit.isOpen(domain, now: runtime.nowMilliseconds()) {
                    answerAll(.serviceUnavailable, "\(domain) failed repeatedly; not tried now (circuit open)")
                    continue
                }
                let key = candidates.map(\.url)
                receivers[key, default: (candidates, [])].domains.append(domain)
            }
        }
        let delivered = await withTaskGroup(of: RemoteDelivery.Answers.self) { group in
            for (_, receiver) in receivers {
                let indices = receiver.domains.flatMap { domains[$0] ?? [] }.sorted()
                group.addTask {
                    let started = ContinuousClock.now
                    let result = await remote.deliver(message, indices: indices, candidates: receiver.candidates)
                    let elapsed = started.duration(to: .now)
                    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                    let outcome = result.allSatisfy { $0.item.requestStatus.isSuccess } ? "delivered"
                        : result.contains { $0.item.requestStatus == .pending } ? "pending" : "failed"
                    for domain in receiver.domains {
                        runtime.metrics.delivery(domain: domain, outcome: outcome, seconds: seconds)
                        if outcome == "delivered" { runtime.circuit.recordSuccess(domain) }
                        if result.contains(where: { DeliveryPolicy.disposition($0.item.requestStatus) == .retry }) {
                            runtime.circuit.recordFailure(domain, now: runtime.nowMilliseconds())
                        }
                    }
                    return result
                }
            }
            var all: RemoteDelivery.Answers = []
            for await part in group { all += part }
            return all
        }
        return answers + delivered
    }

    private func refuse(_ error: IScheduleError, incoming: IncomingRequest) -> GatewayResponse {
        runtime.metrics.request(direction: "outbound", outcome: error.code.rawValue)
        runtime.logger.notice("outbound submission from \(incoming.peer) refused: \(error)")
        return .error(error)
    }
}
