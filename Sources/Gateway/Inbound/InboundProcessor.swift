internal import DKIM
internal import Foundation
internal import ISchedule
internal import Logging

/// One request as the server received it.
public struct IncomingRequest: Sendable {
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// The peer's IP address literal.
    public var peer: String

    public init(headers: [(name: String, value: String)], body: [UInt8], peer: String) {
        self.headers = headers
        self.body = body
        self.peer = peer
    }

    public func values(_ name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }
}

/// Receives iSchedule POSTs from remote servers (protocol reference §6, with the gaps closed):
/// header and iTIP checks, DKIM verification, d= bound to the Originator, replay cache, unsigned
/// peers only from the static allow-list, no relaying; then forwards to the recipients' upstreams.
public struct InboundProcessor: Sendable {
    let runtime: GatewayRuntime
    let forwarder: UpstreamForwarder

    public init(runtime: GatewayRuntime) {
        self.runtime = runtime
        forwarder = UpstreamForwarder(runtime: runtime)
    }

    public func handle(_ incoming: IncomingRequest) async -> GatewayResponse {
        let signatures = incoming.values(DKIMSignature.fieldName)
        let request: ScheduleRequest
        do {
            request = try ScheduleRequest(headers: incoming.headers, body: incoming.body, requireVersion: !signatures.isEmpty)
            try checkSupported(request.message)
        } catch {
            return refuse(error, incoming: incoming)
        }
        var logger = runtime.logger
        logger[metadataKey: "ischedule-message-id"] = .string(request.head.messageID ?? "-")
        logger[metadataKey: "originator"] = .string(request.head.originator.text)
        guard let originatorDomain = request.head.originator.domain else {
            return refuse(IScheduleError(.originatorInvalid, "Originator \(request.head.originator) has no domain"), incoming: incoming)
        }
        if runtime.isLocal(domain: originatorDomain) {
            return refuse(IScheduleError(.originatorDenied, "Originator \(request.head.originator) belongs to a domain of this gateway"),
                          incoming: incoming)
        }

        var replayKey: (domain: String, messageID: String)?
        if signatures.isEmpty {
            let allowed = runtime.configuration.remote(originatorDomain)?.allowUnsignedFrom.contains { $0.contains(incoming.peer) } ?? false
            guard allowed else {
                runtime.metrics.verificationFailure(reason: "unsigned")
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
        runtime.metrics.request(direction: "inbound", outcome: answer.status == 200 ? "ok" : "upstream_\(answer.status)")
        if let replayKey, answer.status == 200, final {
            runtime.replayCache.complete(domain: replayKey.domain, messageID: replayKey.messageID, answer: answer)
            do { try await runtime.replayLedger.complete(domain: replayKey.domain, messageID: replayKey.messageID, answer: answer) } catch {
                logger.error("replay ledger: could not store the answer: \(error)")
            }
        }
        logger.info("inbound \(request.message.method.rawValue) \(request.message.componentType) for \(request.head.recipients.count) recipient(s): HTTP \(answer.status)")
        return answer
    }

    private enum Verification {
        case success((domain: String, messageID: String))
        case failure(GatewayResponse)
        case duplicate(GatewayResponse)
    }

    private func verify(_ incoming: IncomingRequest, signature: String, originatorDomain: String,
                        messageID: String?) async -> Verification {
        let verified: DKIMVerifier.Verified
        do {
            verified = try await runtime.verifier.verify(headers: incoming.headers.map { HeaderField(name: $0.name, value: $0.value) },
                                                          body: incoming.body)
        } catch {
            runtime.metrics.verificationFailure(reason: error.metricReason)
            let refusal = IScheduleError(.verificationFailed, error.description)
            return .failure(refuse(refusal, incoming: incoming, status: error.isTemporary ? 503 : nil))
        }
        let signer = verified.domain.lowercased()
        let aliases = runtime.configuration.remote(originatorDomain)?.signingDomains ?? []
        guard signer == originatorDomain || aliases.contains(signer) else {
            runtime.metrics.verificationFailure(reason: "domain_mismatch")
            return .failure(refuse(IScheduleError(.verificationFailed,
                                                  "signing domain d=\(signer) is not the Originator's domain \(originatorDomain)"),
                                   incoming: incoming))
        }
        guard let messageID else {
            return .failure(refuse(IScheduleError(.verificationFailed, "a signed request needs an iSchedule-Message-ID"), incoming: incoming))
        }
        let now = runtime.clock.now()
        let expires = verified.expiration ?? ((verified.timestamp ?? now) + runtime.configuration.dkim.signatureLifetime)
        switch runtime.replayCache.admit(domain: signer, messageID: messageID, signature: signature, expires: expires, now: now) {
        case .fresh:
            // On disk before anything is forwarded: a restart must not reopen the replay window.
            do {
                try await runtime.replayLedger.remember(ReplayCache.Record(domain: signer, messageID: messageID, signature: signature,
                                                                          expires: expires))
            } catch {
                runtime.logger.error("replay ledger unavailable: \(error)")
                return .failure(runtime.withISchedulingHeaders(.text(503, "replay protection unavailable; try again later\n")))
            }
            return .success((signer, messageID))
        case .duplicate(let answer): return .duplicate(answer)
        case .replay:
            runtime.metrics.verificationFailure(reason: "replay")
            return .failure(refuse(IScheduleError(.verificationFailed,
                                                  "replayed request: d=\(signer) iSchedule-Message-ID \(messageID) was already received"),
                                   incoming: incoming))
        case .full:
            return .failure(GatewayResponse.text(503, "replay cache full; try again later"))
        }
    }

    /// Refuses components and methods this gateway does not advertise (check 10).
    private func checkSupported(_ message: ITIPMessage) throws(IScheduleError) {
        guard runtime.capabilities.supports(component: message.componentType, method: message.method.rawValue) else {
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
            guard let domain = recipient.address?.domain, let hosted = runtime.hostedDomain(domain) else {
                outcomes.answer(index, .invalidCalendarUser, description: "not a calendar user hosted here (no relaying)",
                                error: (iScheduleNamespace, "recipient-invalid"))
                continue
            }
            groups[hosted.name, default: []].append(index)
        }
        let message = UpstreamForwarder.Message(
            originator: request.head.originator.text,
            contentType: incoming.values("Content-Type").first ?? "text/calendar; charset=utf-8",
            // Unsigned allow-listed peers (Apple without DKIM) may send no id; the upstream gets one.
            messageID: request.head.messageID ?? UUID().uuidString.lowercased(), body: incoming.body)
        let results = await withTaskGroup(of: (String, UpstreamForwarder.Outcome).self) { group in
            for (domain, indices) in groups {
                guard let local = runtime.configuration.domain(domain) else { continue }
                let recipients = indices.map { request.head.recipients[$0].text }
                group.addTask { (domain, await forwarder.forward(message, recipients: recipients, to: local)) }
            }
            var results: [(String, UpstreamForwarder.Outcome)] = []
            for await result in group { results.append(result) }
            return results
        }
        // A single upstream's whole-request refusal is relayed as it is.
        if results.count == 1, outcomes.unanswered.count == request.head.recipients.count, case .refused(let refusal) = results[0].1 {
            return (runtime.withISchedulingHeaders(refusal), false)
        }
        for (domain, outcome) in results {
            let indices = groups[domain] ?? []
            switch outcome {
            case .answered(let response): outcomes.merge(response, for: indices, source: "the \(domain) upstream")
            case .refused(let refusal):
                outcomes.answer(indices, refusal.status >= 500 ? .serviceUnavailable : .serviceCannotHandle,
                                description: "the \(domain) upstream answered HTTP \(refusal.status)")
            case .failed(let reason):
                runtime.logger.warning("forward to \(domain) upstream failed: \(reason)")
                outcomes.answer(indices, .serviceUnavailable, description: "the \(domain) calendar server is unavailable")
            }
        }
        let response = outcomes.response()
        let final = !response.items.contains { DeliveryPolicy.disposition($0.requestStatus) == .retry }
        return (runtime.withISchedulingHeaders(.schedule(response)), final)
    }

    private func refuse(_ error: IScheduleError, incoming: IncomingRequest, status: Int? = nil) -> GatewayResponse {
        runtime.metrics.request(direction: "inbound", outcome: error.code.rawValue)
        runtime.logger.notice("inbound request from \(incoming.peer) refused: \(error)",
                              metadata: ["ischedule-message-id": .string(incoming.values("iSchedule-Message-ID").first ?? "-")])
        return runtime.withISchedulingHeaders(.error(error, status: status))
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
