internal import DKIM
internal import Foundation
internal import ISchedule
internal import Logging

/// Receives iSchedule POSTs from remote servers (protocol reference §6, with the gaps closed):
/// header and iTIP checks, DKIM verification, d= bound to the Originator, replay protection,
/// unsigned peers only from the static allow-list, no relaying; then forwards to the recipients'
/// upstreams. The router adds the iSchedule response headers.
struct InboundProcessor: Sendable {
    let verifier: DKIMVerifier
    let replay: ReplayProtection
    let hosted: HostedDelivery
    /// What this gateway advertises: anything else is refused (check 10).
    let capabilities: Capabilities
    let localDomains: [String: GatewayConfiguration.LocalDomain]
    let remotes: [String: GatewayConfiguration.RemoteDomain]
    /// Seconds a signature without `x=` is remembered after its `t=`.
    let signatureLifetime: Int64
    let clock: GatewayClock
    let metrics: GatewayMetrics
    let logger: Logger

    func handle(_ incoming: IncomingRequest) async -> GatewayResponse {
        let signatures = incoming.values(DKIMSignature.fieldName)
        let request: ScheduleRequest
        do {
            request = try ScheduleRequest(values: incoming.values, body: incoming.body, requireVersion: !signatures.isEmpty)
            try checkSupported(request.message)
        } catch {
            return refuse(error, incoming: incoming)
        }
        var logger = logger
        logger[metadataKey: "ischedule-message-id"] = .string(request.head.messageID ?? "-")
        logger[metadataKey: "originator"] = .string(request.head.originator.text)
        guard let originatorDomain = request.head.originator.domain else {
            return refuse(IScheduleError(.originatorInvalid, "Originator \(request.head.originator) has no domain"), incoming: incoming)
        }
        if localDomains[originatorDomain] != nil {
            return refuse(IScheduleError(.originatorDenied, "Originator \(request.head.originator) belongs to a domain of this gateway"),
                          incoming: incoming)
        }
        var replayKey: (domain: String, messageID: String)?
        if signatures.isEmpty {
            guard remotes[originatorDomain]?.allowUnsignedFrom.contains(where: { $0.contains(incoming.peer) }) ?? false else {
                metrics.verificationFailure(reason: "unsigned")
                return refuse(IScheduleError(.verificationFailed,
                                             "no DKIM-Signature, and \(incoming.peer) may not send unsigned requests for \(originatorDomain)"),
                              incoming: incoming)
            }
        } else {
            switch await verify(incoming, signature: signatures[0], originatorDomain: originatorDomain, messageID: request.head.messageID) {
            case .failure(let response): return response
            case .success(let key): replayKey = key
            case .duplicate(let answer):
                logger.info("retry of an already delivered message; answering as before")
                return answer
            }
        }
        let (answer, final) = await deliver(request, incoming: incoming)
        if let replayKey, answer.status == 200, final {
            await replay.complete(domain: replayKey.domain, messageID: replayKey.messageID, answer: answer)
        }
        logger.info("inbound \(request.message.method.rawValue) \(request.message.componentType) for \(request.head.recipients.count) recipient(s): HTTP \(answer.status)")
        return answer
    }

    private enum Verification {
        case success((domain: String, messageID: String))
        case failure(GatewayResponse)
        case duplicate(GatewayResponse)
    }

    private func verify(_ incoming: IncomingRequest, signature: String, originatorDomain: String, messageID: String?) async -> Verification {
        let verified: DKIMVerifier.Verified
        do { verified = try await verifier.verify(headers: incoming.headers, body: incoming.body) } catch {
            metrics.verificationFailure(reason: error.metricReason)
            return .failure(refuse(IScheduleError(.verificationFailed, error.description), incoming: incoming,
                                   status: error.isTemporary ? 503 : nil))
        }
        let signer = verified.domain.lowercased()
        guard signer == originatorDomain || (remotes[originatorDomain]?.signingDomains ?? []).contains(signer) else {
            metrics.verificationFailure(reason: "domain_mismatch")
            return .failure(refuse(IScheduleError(.verificationFailed,
                                                  "signing domain d=\(signer) is not the Originator's domain \(originatorDomain)"),
                                   incoming: incoming))
        }
        guard let messageID else {
            return .failure(refuse(IScheduleError(.verificationFailed, "a signed request needs an iSchedule-Message-ID"), incoming: incoming))
        }
        let expires = verified.expiration ?? ((verified.timestamp ?? clock.seconds) + signatureLifetime)
        switch await replay.admit(domain: signer, messageID: messageID, signature: signature, expires: expires) {
        case .fresh: return .success((signer, messageID))
        case .duplicate(let answer): return .duplicate(answer)
        case .unavailable: return .failure(.text(503, "replay protection unavailable; try again later\n"))
        case .full: return .failure(.text(503, "replay cache full; try again later"))
        case .replay:
            metrics.verificationFailure(reason: "replay")
            return .failure(refuse(IScheduleError(.verificationFailed,
                                                  "replayed request: d=\(signer) iSchedule-Message-ID \(messageID) was already received"),
                                   incoming: incoming))
        }
    }

    /// Refuses components and methods this gateway does not advertise (check 10).
    private func checkSupported(_ message: ITIPMessage) throws(IScheduleError) {
        guard capabilities.supports(component: message.componentType, method: message.method.rawValue) else {
            throw IScheduleError(.invalidSchedulingMessage,
                                 "\(message.componentType) \(message.method.rawValue) is not among the advertised scheduling messages")
        }
    }

    /// Forwards to the upstream of each hosted recipient; the others get 3.7 (no relaying).
    /// `final` is false when some recipient got a temporary failure (a retry must be processed).
    private func deliver(_ request: ScheduleRequest, incoming: IncomingRequest) async -> (answer: GatewayResponse, final: Bool) {
        var outcomes = RecipientOutcomes(recipients: request.head.recipients)
        var groups: [String: [Int]] = [:]
        for (index, recipient) in request.head.recipients.enumerated() {
            guard let domain = recipient.address?.domain, let local = localDomains[domain], local.upstream != nil else {
                outcomes.answer(index, .invalidCalendarUser, description: "not a calendar user hosted here (no relaying)",
                                error: (iScheduleNamespace, "recipient-invalid"))
                continue
            }
            groups[local.name, default: []].append(index)
        }
        let message = UpstreamForwarder.Message(
            originator: request.head.originator.text,
            contentType: incoming.values("Content-Type").first ?? "text/calendar; charset=utf-8",
            // Unsigned allow-listed peers (Apple without DKIM) may send no id; the upstream gets one.
            messageID: request.head.messageID ?? UUID().uuidString.lowercased(), body: incoming.body)
        let result = await hosted.deliver(message, recipients: request.head.recipients, groups: groups, revealsFailures: false)
        // A single upstream's whole-request refusal is relayed as it is.
        if let refusal = result.soleRefusal, outcomes.unanswered.count == request.head.recipients.count {
            return (refusal, false)
        }
        var response = outcomes.response()
        for (index, item) in result.answers { response.items[index] = item }
        return (.schedule(response), !response.items.contains { DeliveryPolicy.disposition($0.requestStatus) == .retry })
    }

    private func refuse(_ error: IScheduleError, incoming: IncomingRequest, status: Int? = nil) -> GatewayResponse {
        logger.notice("inbound request from \(incoming.peer) refused: \(error)",
                      metadata: ["ischedule-message-id": .string(incoming.values("iSchedule-Message-ID").first ?? "-")])
        return .error(error, status: status)
    }
}

extension DKIMFailure {
    /// A short label for the verification-failures metric.
    var metricReason: String {
        switch self {
        case .signatureMissing: "missing"
        case .multipleSignatures: "multiple_signatures"
        case .malformedSignature, .missingTag, .invalidTagValue, .unsupportedVersion: "malformed"
        case .unsupportedAlgorithm, .algorithmNotAccepted, .unsupportedCanonicalization, .canonicalizationNotAccepted,
             .unsupportedQueryMethod: "unsupported"
        case .expiryNotAfterTimestamp, .expired, .timestampInFuture: "time"
        case .requiredHeaderNotSigned: "unsigned_header"
        case .bodyLengthMismatch, .bodyHashMismatch: "body_hash"
        case .keyNotFound, .keyRevoked, .keyUnacceptable, .keyTooSmall: "key"
        case .keyLookupFailed: "key_lookup"
        case .signatureMismatch: "signature"
        }
    }
}
