internal import DKIM
internal import Foundation
internal import ISchedule
internal import Logging

/// Receives iSchedule POSTs from remote servers (protocol reference §6, with the gaps closed), in
/// order of cost, so that a stranger's request is refused before it costs anything: headers (and
/// the recipient count), then who may send unsigned, then the DKIM signature and `d=` binding,
/// only then the calendar (iTIP rules, the attendee cap), the recipients this gateway hosts (no
/// relaying), the replay cache, and the forward to the upstreams. The router adds the iSchedule
/// response headers.
struct InboundProcessor: Sendable {
    let verifier: DKIMVerifier
    /// For Originators of remote domains configured `dialect: draft-01` (DAViCal): every
    /// canonicalization, fewer must-sign headers (`VerificationPolicy.legacyInterop`).
    let draft01Verifier: DKIMVerifier
    let replay: ReplayProtection
    let hosted: HostedDelivery
    /// Our domains with `delivery: imip`.
    let mailed: MailedDelivery
    /// Free/busy for our domains with `free-busy:` (their CalDAV server has no iSchedule).
    let freeBusy: CalDAVFreeBusy
    /// What this gateway advertises: anything else is refused (check 10).
    let capabilities: Capabilities
    let localDomains: [String: GatewayConfiguration.LocalDomain]
    let remotes: [String: GatewayConfiguration.RemoteDomain]
    let limits: GatewayConfiguration.Limits
    let metrics: GatewayMetrics
    let logger: Logger

    func handle(_ incoming: IncomingRequest) async -> GatewayResponse {
        let signatures = incoming.values(DKIMSignature.fieldName)
        let head: ScheduleRequestHead
        do { head = try ScheduleRequestHead(values: incoming.values, requireVersion: !signatures.isEmpty) } catch {
            return refuse(error, incoming: incoming)
        }
        guard head.recipients.count <= limits.maxRecipients else {
            return refuse(
                IScheduleError(.maxRecipients, "\(head.recipients.count) recipients; at most \(limits.maxRecipients) per request"),
                incoming: incoming)
        }
        guard let originatorDomain = head.originator.domain else {
            return refuse(IScheduleError(.originatorInvalid, "Originator \(head.originator) has no domain"), incoming: incoming)
        }
        if localDomains[originatorDomain] != nil {
            return refuse(
                IScheduleError(.originatorDenied, "Originator \(head.originator) belongs to a domain of this gateway"),
                incoming: incoming)
        }
        var signed: DKIMVerifier.Verified?
        if !signatures.isEmpty {
            switch await verify(incoming, originatorDomain: originatorDomain) {
            case .failure(let refusal): return refusal.response
            case .success(let verified): signed = verified.keyIsTesting ? nil : verified
            }
        }
        if signed == nil, let refusal = unsignedRefusal(incoming, originatorDomain: originatorDomain, testingKey: !signatures.isEmpty) {
            return refusal
        }
        let request: ScheduleRequest
        do {
            request = try ScheduleRequest(head: head, body: incoming.body, maximumAttendees: limits.maxAttendees)
            try checkSupported(request.message)
        } catch {
            return refuse(error, incoming: incoming)
        }
        var logger = logger
        logger[metadataKey: "ischedule-message-id"] = .string(head.messageID ?? "-")
        logger[metadataKey: "originator"] = .string(head.originator.text)
        let answer = await deliver(request, incoming: incoming, signed: signed, logger: logger)
        let key = signed.map { " (d=\($0.domain.lowercased()), key \($0.keyIsDNSSECSecure ? "DNSSEC-secure" : "not DNSSEC-secure"))" } ?? ""
        logger.info(
            "inbound \(request.message.method.rawValue) \(request.message.componentType) for \(head.recipients.count) recipient(s)\(key): HTTP \(answer.status)"
        )
        return answer
    }

    /// Unsigned requests (and those signed with a key in testing mode) only from the peers
    /// configured for the Originator's domain: by address, or for `authentication: tls` domains
    /// by a verified client certificate that names one of the domain's `client-names`.
    private func unsignedRefusal(_ incoming: IncomingRequest, originatorDomain: String, testingKey: Bool) -> GatewayResponse? {
        let remote = remotes[originatorDomain]
        guard !(remote?.allowUnsignedFrom.contains(where: { $0.contains(incoming.peer) }) ?? false) else { return nil }
        if let remote, remote.tlsOnly, let names = incoming.clientCertificateNames {
            guard !names.contains(where: remote.clientNames.contains) else { return nil }
            metrics.verificationFailure(reason: "client_certificate")
            let named = names.isEmpty ? "no DNS name" : names.joined(separator: ", ")
            return refuse(
                IScheduleError(
                    .verificationFailed,
                    "the client certificate names \(named), none of them bound to "
                        + "\(originatorDomain) (remote-domains.\(originatorDomain).client-names)"), incoming: incoming)
        }
        metrics.verificationFailure(reason: testingKey ? "testing_key" : "unsigned")
        let what =
            testingKey
            ? "a signature by a key in testing mode (t=y) counts as none"
            : remote?.tlsOnly == true ? "no DKIM-Signature and no verified client certificate" : "no DKIM-Signature"
        return refuse(
            IScheduleError(.verificationFailed, "\(what), and \(incoming.peer) may not send unsigned requests for \(originatorDomain)"),
            incoming: incoming)
    }

    private func verify(_ incoming: IncomingRequest, originatorDomain: String) async -> Result<DKIMVerifier.Verified, Refusal> {
        let verified: DKIMVerifier.Verified
        let verifier = remotes[originatorDomain]?.dialect == .draft01 ? draft01Verifier : verifier
        do { verified = try await verifier.verify(headers: incoming.headers, body: incoming.body) } catch {
            metrics.verificationFailure(reason: error.metricReason)
            return .failure(
                Refusal(
                    refuse(
                        IScheduleError(.verificationFailed, error.description), incoming: incoming,
                        status: error.isTemporary ? 503 : nil)))
        }
        let signer = verified.domain.lowercased()
        guard signer == originatorDomain || (remotes[originatorDomain]?.signingDomains ?? []).contains(signer) else {
            metrics.verificationFailure(reason: "domain_mismatch")
            return .failure(
                Refusal(
                    refuse(
                        IScheduleError(
                            .verificationFailed,
                            "signing domain d=\(signer) is not the Originator's domain \(originatorDomain)"),
                        incoming: incoming)))
        }
        if remotes[originatorDomain]?.requireDNSSECKeys == true, !verified.keyIsDNSSECSecure {
            metrics.verificationFailure(reason: "insecure_key")
            let source =
                verified.keyMethod == .dnsTXT ? "DNS that is not DNSSEC-validated" : "\(verified.keyMethod.rawValue), not DNSSEC-validated DNS"
            return .failure(
                Refusal(
                    refuse(
                        IScheduleError(
                            .verificationFailed,
                            "the key \(verified.selector)._domainkey.\(signer) came from \(source); "
                                + "remote-domains.\(originatorDomain).require-dnssec-keys refuses it"),
                        incoming: incoming)))
        }
        metrics.verifiedSignature(dnssecSecureKey: verified.keyIsDNSSECSecure)
        return .success(verified)
    }

    /// A response that ends the request early.
    private struct Refusal: Error {
        let response: GatewayResponse
        init(_ response: GatewayResponse) { self.response = response }
    }

    /// Refuses components and methods this gateway does not advertise (check 10).
    private func checkSupported(_ message: ITIPMessage) throws(IScheduleError) {
        guard capabilities.supports(component: message.componentType, method: message.method.rawValue) else {
            throw IScheduleError(
                .invalidSchedulingMessage,
                "\(message.componentType) \(message.method.rawValue) is not among the advertised scheduling messages")
        }
    }

    /// Forwards to the upstream of each hosted recipient; the others get 3.7 (no relaying). A
    /// signed request is entered in the replay cache only now, once it has something to deliver.
    private func deliver(
        _ request: ScheduleRequest, incoming: IncomingRequest, signed: DKIMVerifier.Verified?,
        logger: Logger
    ) async -> GatewayResponse {
        var answers = RecipientAnswers(recipients: request.head.recipients)
        var groups: [String: [Int]] = [:]
        var byMail: [Int] = []
        var fromCalDAV: [Int] = []
        let asksFreeBusy = request.message.componentType == "VFREEBUSY" && request.message.method == .request
        for (index, recipient) in request.head.recipients.enumerated() {
            guard let domain = recipient.address?.domain, let local = localDomains[domain], local.receives || local.freeBusy != nil else {
                answers.answer(
                    index, .invalidCalendarUser, description: "not a calendar user hosted here (no relaying)",
                    error: (iScheduleNamespace, "recipient-invalid"))
                continue
            }
            if asksFreeBusy && local.freeBusy != nil {
                fromCalDAV.append(index)
            } else if !local.receives {
                answers.answer(index, .noSchedulingSupport, description: "only free/busy is answered for this domain")
            } else if local.deliversByMail {
                byMail.append(index)
            } else {
                groups[local.name, default: []].append(index)
            }
        }
        guard !groups.isEmpty || !byMail.isEmpty || !fromCalDAV.isEmpty else { return .schedule(answers.response()) }
        var replayKey: (domain: String, messageID: String)?
        if let key = authenticatedKey(request, signed: signed, incoming: incoming) {
            switch await admit(request, key: key, incoming: incoming) {
            case .failure(let refusal): return refusal.response
            case .success(.some(let earlier)):
                logger.info("retry of an already delivered message; answering as before")
                return earlier
            case .success(.none): replayKey = (key.domain, key.messageID ?? "")
            }
        }
        let message = UpstreamForwarder.Message(
            originator: request.head.originator.canonical,
            contentType: incoming.values("Content-Type").first ?? "text/calendar; charset=utf-8",
            // Unsigned allow-listed peers (Apple without DKIM) may send no id; the upstream gets one.
            // A signed request's id is the one its signature covers (or the b= key).
            messageID: replayKey?.messageID ?? request.head.messageID ?? UUID().uuidString.lowercased(), body: incoming.body)
        let none = RecipientAnswers(recipients: request.head.recipients)
        async let forwarded =
            groups.isEmpty
            ? HostedDelivery.Result(answers: none, soleRefusal: nil)
            : hosted.deliver(message, recipients: request.head.recipients, groups: groups, revealsFailures: false)
        async let mailedAnswers =
            byMail.isEmpty
            ? none
            : mailed.deliver(
                request, body: incoming.body, messageID: message.messageID, to: byMail,
                authentication: authenticationResult(signed, incoming: incoming, originatorDomain: request.head.originator.domain))
        async let calDAVAnswers = fromCalDAV.isEmpty ? none : freeBusy.answer(request, indices: fromCalDAV, domains: localDomains)
        let (result, mailAnswers, freeBusyAnswers) = await (forwarded, mailedAnswers, calDAVAnswers)
        var answer: GatewayResponse
        var final = false
        // A single upstream's whole-request refusal is relayed as it is.
        if let refusal = result.soleRefusal, byMail.isEmpty, fromCalDAV.isEmpty, answers.isEmpty {
            answer = refusal
        } else {
            for part in [result.answers, mailAnswers, freeBusyAnswers] { answers.merge(part) }
            let response = answers.response()
            final = !response.items.contains { DeliveryPolicy.outcome($0.requestStatus) == .temporary }
            answer = .schedule(response)
        }
        if let replayKey { await replay.complete(domain: replayKey.domain, messageID: replayKey.messageID, answer: final ? answer : nil) }
        return answer
    }

    /// What the gateway verified, for the Authentication-Results of a mailed message (RFC 8601).
    func authenticationResult(_ signed: DKIMVerifier.Verified?, incoming: IncomingRequest, originatorDomain: String?) -> String {
        if signed == nil, let remote = remotes[originatorDomain ?? ""], remote.tlsOnly,
            let name = incoming.clientCertificateNames?.first(where: remote.clientNames.contains)
        {
            return "dkim=none (iSchedule request over TLS with a verified client certificate for \(name))"
        }
        guard let signed else { return "dkim=none (unsigned iSchedule request from allow-listed peer \(incoming.peer))" }
        let key = signed.keyIsDNSSECSecure ? "; key from DNSSEC-validated DNS" : ""
        return "dkim=pass (iSchedule request signature\(key)) header.d=\(signed.domain.lowercased()) header.s=\(signed.selector)"
    }

    /// What the replay cache remembers a signed request by: its iSchedule-Message-ID when the
    /// signature covers it, else (a draft-01 sender sends none, and one added by whoever holds
    /// the request is not the sender's word) the signature's `b=` value, unique per signature.
    static func replayID(_ request: ScheduleRequest, signed: DKIMVerifier.Verified) -> String? {
        coveredMessageID(request, signed: signed) ?? (signed.signatureValue.isEmpty ? nil : "b=\(signed.signatureValue)")
    }

    /// The iSchedule-Message-ID, when the signature covers it.
    static func coveredMessageID(_ request: ScheduleRequest, signed: DKIMVerifier.Verified) -> String? {
        signed.signs("iSchedule-Message-ID") ? request.head.messageID : nil
    }

    /// What the replay ledger remembers an authenticated request by. A signed one: its signing
    /// domain and covered message id (`replayID`). One authenticated by a verified client
    /// certificate (`authentication: tls`): the certificate's bound name and its message id, each
    /// sending a retry (no signature tells them apart), for as long as a signature could live.
    /// Nil for an allow-listed unsigned peer (nothing authenticates its message ids).
    private func authenticatedKey(_ request: ScheduleRequest, signed: DKIMVerifier.Verified?, incoming: IncomingRequest) -> ReplayKey? {
        if let signed {
            let usable = Self.coveredMessageID(request, signed: signed) != nil || remotes[request.head.originator.domain ?? ""]?.dialect == .draft01
            return ReplayKey(
                domain: signed.domain.lowercased(), messageID: usable ? Self.replayID(request, signed: signed) : nil,
                signature: signed.signatureValue, expires: signed.acceptedUntil ?? Int64.max, what: "a signed request")
        }
        guard let remote = remotes[request.head.originator.domain ?? ""], remote.tlsOnly,
            let name = incoming.clientCertificateNames?.first(where: remote.clientNames.contains)
        else { return nil }
        let lifetime = verifier.policy.maximumLifetime ?? 86_400
        return ReplayKey(
            domain: "tls:" + name.lowercased(), messageID: request.head.messageID, signature: "retry-\(UUID().uuidString)",
            expires: Int64(Date().timeIntervalSince1970) + lifetime, what: "a request authenticated by a client certificate")
    }

    private struct ReplayKey {
        let domain: String
        let messageID: String?
        let signature: String
        let expires: Int64
        /// For the refusal when there is no message id.
        let what: String
    }

    /// The replay cache's word on an authenticated request: go on (nil), the earlier answer, or a refusal.
    private func admit(_ request: ScheduleRequest, key: ReplayKey, incoming: IncomingRequest) async -> Result<GatewayResponse?, Refusal> {
        guard let messageID = key.messageID else {
            return .failure(Refusal(refuse(IScheduleError(.verificationFailed, "\(key.what) needs an iSchedule-Message-ID"), incoming: incoming)))
        }
        let signer = key.domain
        let recipients = Fingerprint.of(request.head.recipients.compactMap { $0.address?.normalized }.sorted().joined(separator: ","))
        switch await replay.admit(domain: signer, messageID: messageID, signature: key.signature, recipients: recipients, expires: key.expires) {
        case .fresh: return .success(nil)
        case .duplicate(let answer): return .success(answer)
        case .unavailable: return .failure(Refusal(.text(503, "replay protection unavailable; try again later\n")))
        case .inFlight:
            return .failure(Refusal(.text(503, "d=\(signer) iSchedule-Message-ID \(messageID) is still being delivered; try again later\n")))
        case .conflict:
            return .failure(replayRefusal("d=\(signer) iSchedule-Message-ID \(messageID) was already used for other recipients", incoming: incoming))
        case .replay:
            return .failure(replayRefusal("replayed request: d=\(signer) iSchedule-Message-ID \(messageID) was already received", incoming: incoming))
        }
    }

    /// A request whose message ID was seen before (a replay, or reuse for other recipients): counted and refused.
    private func replayRefusal(_ reason: String, incoming: IncomingRequest) -> Refusal {
        metrics.verificationFailure(reason: "replay")
        return Refusal(refuse(IScheduleError(.verificationFailed, reason), incoming: incoming))
    }

    private func refuse(_ error: IScheduleError, incoming: IncomingRequest, status: Int? = nil) -> GatewayResponse {
        logger.notice(
            "inbound request from \(incoming.peer) refused: \(error)",
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
            .unsupportedQueryMethod:
            "unsupported"
        case .expiryNotAfterTimestamp, .expired, .timestampInFuture, .lifetimeTooLong, .notTimeBounded: "time"
        case .requiredHeaderNotSigned, .headerInstanceNotSigned: "unsigned_header"
        case .bodyLengthMismatch, .bodyHashMismatch: "body_hash"
        case .keyNotFound, .keyRevoked, .keyUnacceptable, .keyTooSmall: "key"
        case .keyLookupFailed: "key_lookup"
        case .signatureMismatch: "signature"
        }
    }
}
