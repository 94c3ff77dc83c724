internal import DKIM
public import ISchedule
internal import Transport

/// Hands a scheduling message to a local upstream (the CalDAV server hosting the recipients) with
/// the configured trust: a shared-secret header, a DKIM signature with a private-exchange key, or
/// nothing (loopback only).
public struct UpstreamForwarder: Sendable {
    let runtime: GatewayRuntime

    public init(runtime: GatewayRuntime) {
        self.runtime = runtime
    }

    /// The message as it goes to the upstream.
    public struct Message: Sendable {
        public var originator: String
        public var contentType: String
        public var messageID: String
        public var body: [UInt8]

        public init(originator: String, contentType: String, messageID: String, body: [UInt8]) {
            self.originator = originator
            self.contentType = contentType
            self.messageID = messageID
            self.body = body
        }
    }

    /// What the upstream made of it.
    public enum Outcome: Sendable {
        /// 200 with a schedule-response.
        case answered(ScheduleResponse)
        /// A whole-request refusal with a status and (usually) an iSchedule error document.
        case refused(GatewayResponse)
        /// No usable answer: connection, timeout, garbage.
        case failed(String)
    }

    public func forward(_ message: Message, recipients: [String], to domain: GatewayConfiguration.LocalDomain) async -> Outcome {
        guard let upstream = domain.upstream else { return .failed("\(domain.name) has no upstream") }
        var request = HTTPRequestMessage(method: "POST", target: "/", headers: [
            HeaderField(name: "Originator", value: message.originator),
            HeaderField(name: "Recipient", value: recipients.joined(separator: ",")),
            HeaderField(name: "Content-Type", value: message.contentType),
            HeaderField(name: "User-Agent", value: GatewayIdentity.userAgent),
            HeaderField(name: "iSchedule-Version", value: "1.0"),
            HeaderField(name: "iSchedule-Message-ID", value: message.messageID),
        ], body: message.body)
        switch domain.upstreamTrust {
        case .none: break
        case .sharedSecret(let header, let secret): request.headers.append(HeaderField(name: header, value: secret))
        case .dkim:
            guard let signer = runtime.keyring.upstreamSigners[domain.name] else { return .failed("no upstream signing key") }
            do { try signer.sign(&request, now: runtime.clock.now()) } catch { return .failed("signing for the upstream: \(error)") }
        }
        let response: HTTPClientResponse
        do {
            response = try await runtime.upstreamClient.send(HTTPClientRequest(
                method: "POST", url: upstream, headers: request.headers.map { ($0.name, $0.value) }, body: message.body,
                addressPolicy: .any))
        } catch {
            runtime.metrics.forward(upstream: domain.name, outcome: "unreachable")
            return .failed("upstream \(upstream): \(error)")
        }
        guard response.status == 200 else {
            runtime.metrics.forward(upstream: domain.name, outcome: "http_\(response.status)")
            var relayed = GatewayResponse(status: response.status, body: response.body)
            if let type = response.values("Content-Type").first { relayed.headers.append(.init("Content-Type", type)) }
            return .refused(relayed)
        }
        do {
            let answer = try ScheduleResponse(xml: response.body)
            runtime.metrics.forward(upstream: domain.name, outcome: "ok")
            return .answered(answer)
        } catch {
            runtime.metrics.forward(upstream: domain.name, outcome: "malformed")
            return .failed("upstream \(upstream) answered 200 without a readable schedule-response: \(error)")
        }
    }
}

/// How the gateway names itself on the wire.
public enum GatewayIdentity {
    public static let version = "0.1.0"
    public static let userAgent = "ischedule-gateway/\(version)"
}
