internal import DKIM
internal import ISchedule
internal import Transport

/// Hands a scheduling message to a local upstream (the CalDAV server hosting the recipients) with
/// the configured trust: a shared-secret header, a DKIM signature with a private-exchange key, or
/// nothing (loopback only).
struct UpstreamForwarder: Sendable {
    let client: HTTPClient
    /// Local domain → signer, for `upstream-trust: dkim`.
    let signers: [String: DKIMSigner]
    let clock: GatewayClock
    let metrics: GatewayMetrics

    /// The message as it goes to the upstream.
    struct Message: Sendable {
        var originator: String
        var contentType: String
        var messageID: String
        var body: [UInt8]
    }

    /// What the upstream made of it.
    enum Outcome: Sendable {
        /// 200 with a schedule-response.
        case answered(ScheduleResponse)
        /// A whole-request refusal with a status and (usually) an iSchedule error document.
        case refused(GatewayResponse)
        /// No usable answer: connection, timeout, garbage.
        case failed(String)
    }

    func forward(_ message: Message, recipients: [String], to domain: GatewayConfiguration.LocalDomain) async -> Outcome {
        guard let upstream = domain.upstream else { return .failed("\(domain.name) has no upstream") }
        var request = HTTPRequestMessage(
            method: "POST", target: "/",
            headers: [
                HeaderField(name: "Originator", value: message.originator),
                HeaderField(name: "Recipient", value: recipients.joined(separator: ",")),
                HeaderField(name: "Content-Type", value: message.contentType),
                HeaderField(name: "User-Agent", value: GatewayIdentity.userAgent),
                HeaderField(name: "iSchedule-Version", value: "1.0"),
                HeaderField(name: "iSchedule-Message-ID", value: message.messageID)
            ], body: message.body)
        switch domain.upstreamTrust {
        case .none: break
        case .sharedSecret(let header, let secret): request.headers.append(HeaderField(name: header, value: secret))
        case .dkim:
            guard let signer = signers[domain.name] else { return .failed("no upstream signing key") }
            do { try signer.sign(&request, now: clock.seconds) } catch { return .failed("signing for the upstream: \(error)") }
        }
        let response: HTTPClientResponse
        do {
            response = try await client.send(
                HTTPClientRequest(
                    method: "POST", url: upstream, headers: request.headers, body: message.body,
                    addressPolicy: .any))
        } catch {
            metrics.forward(upstream: domain.name, outcome: "unreachable")
            return .failed("upstream \(upstream): \(error)")
        }
        guard response.status == 200 else {
            metrics.forward(upstream: domain.name, outcome: "http_\(response.status)")
            var relayed = GatewayResponse(status: response.status, body: response.body)
            if let type = response.values("Content-Type").first { relayed.headers.append(HeaderField(name: "Content-Type", value: type)) }
            return .refused(relayed)
        }
        do {
            let answer = try ScheduleResponse(xml: response.body)
            metrics.forward(upstream: domain.name, outcome: "ok")
            return .answered(answer)
        } catch {
            metrics.forward(upstream: domain.name, outcome: "malformed")
            return .failed("upstream \(upstream) answered 200 without a readable schedule-response: \(error)")
        }
    }
}
