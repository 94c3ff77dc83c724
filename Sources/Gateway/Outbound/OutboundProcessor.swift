internal import Foundation
internal import ISchedule
internal import Logging

/// Takes scheduling messages from the local CalDAV server and answers with one
/// `schedule-response`: hosted recipients are forwarded to their upstream, remote ones delivered
/// over iSchedule (what is not final is queued: 1.0 to retry or still in flight, 1.1 by e-mail).
struct OutboundProcessor: Sendable {
    let intake: OutboundIntake
    /// Domains this gateway signs for: the only Originator domains it accepts.
    let signingDomains: Set<String>
    let localDomains: [String: GatewayConfiguration.LocalDomain]
    let hosted: HostedDelivery
    let remote: LiveAttempt
    let logger: Logger

    func handle(_ incoming: IncomingRequest) async -> GatewayResponse {
        if let refusal = intake.refusal(incoming) {
            return refuse(IScheduleError(.originatorDenied, refusal), incoming: incoming)
        }
        let request: ScheduleRequest
        do { request = try ScheduleRequest(values: incoming.values, body: incoming.body, requireVersion: false) } catch {
            return refuse(error, incoming: incoming)
        }
        guard let originatorDomain = request.head.originator.domain, signingDomains.contains(originatorDomain) else {
            return refuse(
                IScheduleError(
                    .originatorDenied,
                    "Originator \(request.head.originator) is not in a domain this gateway signs for"),
                incoming: incoming)
        }
        let message = DeliveryMessage(
            request: request, body: incoming.body,
            messageID: request.head.messageID ?? UUID().uuidString.lowercased())
        var logger = logger
        logger[metadataKey: "ischedule-message-id"] = .string(message.messageID)

        var answers = message.noAnswers
        var hostedGroups: [String: [Int]] = [:]
        var remoteIndices: [Int] = []
        for (index, recipient) in message.recipients.enumerated() {
            guard let domain = recipient.address?.domain else {
                answers.answer(index, .invalidCalendarUser, description: "not a calendar user address")
                continue
            }
            guard let local = localDomains[domain.lowercased()] else {
                remoteIndices.append(index)
                continue
            }
            if local.upstream != nil {
                hostedGroups[local.name, default: []].append(index)
            } else {
                answers.answer(index, .invalidCalendarUser, description: "\(domain) is ours but has no upstream")
            }
        }
        let upstreamMessage = UpstreamForwarder.Message(
            originator: message.originator, contentType: message.contentType,
            messageID: message.messageID, body: message.body)
        async let local = hosted.deliver(upstreamMessage, recipients: message.recipients, groups: hostedGroups, revealsFailures: true)
        async let remote = remote.deliver(message, to: remoteIndices)
        let (hostedResult, remoteAnswers) = await (local, remote)
        answers.merge(hostedResult.answers)
        answers.merge(remoteAnswers)
        let response = answers.response()
        let statuses = response.items.map { "\($0.recipient)=\($0.requestStatus.code)" }.joined(separator: " ")
        logger.info("outbound \(message.method) \(message.component) from \(message.originator): \(statuses)")
        return .schedule(response)
    }

    private func refuse(_ error: IScheduleError, incoming: IncomingRequest) -> GatewayResponse {
        logger.notice("outbound submission from \(incoming.peer) refused: \(error)")
        return .error(error)
    }
}
