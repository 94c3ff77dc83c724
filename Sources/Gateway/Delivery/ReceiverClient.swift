internal import DKIM
internal import Foundation
internal import ISchedule
internal import Synchronization
internal import Transport

/// Sends one message to one remote receiver (protocol reference §8.2): the first candidate that
/// answers with capabilities, their limits, recipients batched by `max-recipients`, each batch
/// DKIM-signed with the Originator's domain key and POSTed, redirects followed and re-signed,
/// the answers read back per recipient.
final class ReceiverClient: Sendable {
    struct Settings: Sendable {
        var maxRecipients: Int
        var maxRedirects: Int
        /// Seconds a scheduling POST (all its redirects included) may take to be answered
        /// (`timeouts.remote-transfer`), and a free-busy one (answered live or not at all).
        var transferTimeout: Double
        var freeBusyTimeout: Double
        var addressPolicy: AddressPolicy
    }

    private let capabilities: CapabilitiesCache
    private let client: HTTPClient
    private let signers: [String: DKIMSigner]
    /// Our domains' TLS client certificates, for receivers with `authentication: tls`.
    private let clientCertificates: [String: ClientCertificate]
    private let settings: Settings
    private let clock: GatewayClock
    /// Receiver URL → where a 301/308 moved it.
    private let movedReceivers = Mutex<[String: String]>([:])

    init(
        capabilities: CapabilitiesCache, client: HTTPClient, signers: [String: DKIMSigner],
        clientCertificates: [String: ClientCertificate] = [:], settings: Settings, clock: GatewayClock
    ) {
        self.capabilities = capabilities
        self.client = client
        self.signers = signers
        self.clientCertificates = clientCertificates
        self.settings = settings
        self.clock = clock
    }

    /// Delivers to the first reachable candidate (RFC 2782 failover happens at the capabilities step),
    /// signed for the profile's dialect when configured, else for the dialect its capabilities
    /// showed; a TLS-only profile presents our client certificate and signs nothing.
    func deliver(
        _ message: DeliveryMessage, to indices: [Int], candidates: [ReceiverDiscovery.Candidate],
        profile: RemoteProfile = RemoteProfile()
    ) async -> RecipientAnswers {
        let found = await Result { () async throws(CapabilitiesError) -> (ReceiverDiscovery.Candidate, CapabilitiesCache.Entry) in
            try await capabilities.firstReachable(candidates) { url in self.movedReceivers.withLock { $0[url] } }
        }
        let receiver: CapabilitiesCache.Entry
        let dane: DANERequirement?
        switch found {
        case .success(let (candidate, entry)): (receiver, dane) = (entry, candidate.dane)
        case .failure(let error):
            var answers = message.answers(indices, Self.status(unreachable: error), "no receiver reachable: \(error)")
            if error.refusedByDANE { answers.holdForSecurity(indices) }
            return answers
        }
        let fits = Result { () throws(CapabilityLimits.Violation) -> Void in
            try CapabilityLimits.check(
                bodySize: message.body.count, component: message.component, method: message.method,
                capabilities: receiver.capabilities)
        }
        if case .failure(let violation) = fits { return message.answers(indices, .noSchedulingSupport, violation.description) }
        var limits = receiver.capabilities
        limits.maxRecipients = min(limits.maxRecipients ?? Int.max, settings.maxRecipients)
        let batches = CapabilityLimits.batches(indices, capabilities: limits)
        return await withTaskGroup(of: RecipientAnswers.self) { group in
            for (number, batch) in batches.enumerated() {
                // Each POST is its own message for the receiver's replay cache: the first batch keeps
                // the id, later ones get a stable suffix (the same on every retry).
                var part = message
                if number > 0 { part.messageID = "\(message.messageID)-\(number + 1)" }
                let dialect = profile.dialect ?? receiver.dialect
                group.addTask {
                    await self.send(part, batch: batch, to: receiver.receiver, dialect: dialect, tlsOnly: profile.tlsOnly, dane: dane)
                }
            }
            var answers = message.noAnswers
            for await batchAnswers in group { answers.merge(batchAnswers) }
            return answers
        }
    }

    /// Nobody answered: refused connections everywhere may pass (1.0); receivers only on refused
    /// addresses never will (5.2, so iMIP takes over); anything else is a failure for now (5.1).
    static func status(unreachable error: CapabilitiesError) -> RequestStatus {
        guard case .noneReachable(let failures) = error, !failures.isEmpty else { return .serviceUnavailable }
        if failures.allSatisfy({ if case .http(_, .addressNotAllowed) = $0 { true } else { false } }) { return .invalidCalendarService }
        if failures.allSatisfy({ if case .http(_, .couldNotConnect) = $0 { true } else { false } }) { return .pending }
        return .serviceUnavailable
    }

    /// One POST (plus redirects) for one batch of recipients: the request built, sent, its outcome read.
    private func send(
        _ message: DeliveryMessage, batch: [Int], to receiver: String, dialect: IScheduleDialect,
        tlsOnly: Bool, dane: DANERequirement?
    ) async -> RecipientAnswers {
        let post: Post
        switch prepare(message, batch: batch, to: receiver, dialect: dialect, tlsOnly: tlsOnly, dane: dane) {
        case .failure(let refusal): return message.answers(batch, refusal.status, refusal.description)
        case .success(let prepared): post = prepared
        }
        let outcome = await Redirects.follow(from: receiver, limit: settings.maxRedirects) { url in await post.send(to: url) }
        var answers = answers(outcome, receiver: receiver, message: message, batch: batch)
        if case .failed(.daneMismatch, _) = outcome { answers.holdForSecurity(batch) }
        return answers
    }

    /// Why a batch cannot be sent at all.
    private struct Refusal: Error {
        let status: RequestStatus
        let description: String
    }

    /// A batch's POST, ready for the receiver's URL and each redirect: signed for the dialect (a
    /// draft-01 receiver gets the Host header signed and the body in `simple` form, which it
    /// hashes as sent), or with our client certificate for a TLS-only receiver.
    private struct Post: Sendable {
        let client: HTTPClient
        let headers: [HeaderField]
        let body: [UInt8]
        let messageID: String
        let dialect: IScheduleDialect
        let signer: DKIMSigner
        /// The TLS-only profile's certificate (then nothing is signed).
        let certificate: ClientCertificate?
        /// One deadline for the POST and its redirects: a transfer ends within the time the queue's lease allows for.
        let deadline: Int64
        let addressPolicy: AddressPolicy
        /// The receiver's validated TLSA records: its certificate must match one (tls-policy dane).
        let dane: DANERequirement?
        let clock: GatewayClock

        func send(to url: String) async -> Result<HTTPClientResponse, HTTPClientError> {
            var headers = headers
            if dialect == .draft01, let host = ReceiverClient.hostHeader(of: url) { headers.insert(HeaderField(name: "Host", value: host), at: 0) }
            var request = HTTPRequestMessage(method: "POST", target: ReceiverClient.path(of: url), headers: headers, body: body)
            if certificate != nil {
                DKIMSigner.addRequestHeaders(&request, messageID: messageID)
            } else {
                do { try signer.sign(&request, now: clock.seconds, messageID: messageID, dialect: dialect) } catch {
                    return .failure(.invalidRequest("could not sign: \(error)"))
                }
            }
            var outgoing = HTTPClientRequest(
                method: "POST", url: url, headers: request.headers, body: body,
                timeoutMilliseconds: Int(max(1, deadline - clock.milliseconds())), addressPolicy: addressPolicy)
            outgoing.clientCertificate = certificate
            outgoing.dane = dane
            let client = client
            return await Result(awaiting: { () async throws(HTTPClientError) -> HTTPClientResponse in try await client.send(outgoing) })
        }
    }

    /// The batch's POST, or why it cannot be sent (no key, a TLS-only receiver we cannot authenticate to).
    private func prepare(
        _ message: DeliveryMessage, batch: [Int], to receiver: String, dialect: IScheduleDialect, tlsOnly: Bool, dane: DANERequirement?
    ) -> Result<Post, Refusal> {
        guard let domain = message.originatorDomain, let signer = signers[domain] else {
            return .failure(Refusal(status: .serviceCannotHandle, description: "no signing key for \(message.originator)"))
        }
        let certificate = tlsOnly ? clientCertificates[domain] : nil
        if tlsOnly && certificate == nil {
            return .failure(
                Refusal(
                    status: .serviceCannotHandle,
                    description: "\(receiver) takes TLS client certificates only (authentication: tls); "
                        + "domains.\(domain).client-certificate is not configured"))
        }
        if tlsOnly && !receiver.lowercased().hasPrefix("https://") {
            return .failure(
                Refusal(
                    status: .invalidCalendarService, description: "\(receiver) is not https: a TLS client certificate cannot authenticate us there"))
        }
        var body = message.body
        if message.isFreeBusy {
            let wanted = Set(batch.compactMap { message.recipients[$0].address })
            body = AttendeeFilter.freeBusy(body) { wanted.contains($0) }
        }
        if dialect == .draft01 { body = BodyCanonicalizer.canonicalize(body, .simple) }
        // Written from the parsed addresses, never as the local server spelled them.
        let recipientList = batch.map { message.recipients[$0].address?.canonical ?? message.recipients[$0].text }.joined(separator: ",")
        let headers = [
            HeaderField(name: "Originator", value: message.originator),
            HeaderField(name: "Recipient", value: recipientList),
            HeaderField(name: "Content-Type", value: message.contentType),
            HeaderField(name: "User-Agent", value: GatewayIdentity.userAgent)
        ]
        let seconds = message.isFreeBusy ? settings.freeBusyTimeout : settings.transferTimeout
        return .success(
            Post(
                client: client, headers: headers, body: body, messageID: message.messageID, dialect: dialect, signer: signer,
                certificate: certificate, deadline: clock.milliseconds() + Int64(seconds * 1000), addressPolicy: settings.addressPolicy,
                dane: dane, clock: clock))
    }

    /// What the POST's outcome means for each recipient of the batch.
    private func answers(_ outcome: Redirects.Outcome, receiver: String, message: DeliveryMessage, batch: [Int]) -> RecipientAnswers {
        func all(_ status: RequestStatus, _ description: String) -> RecipientAnswers { message.answers(batch, status, description) }
        switch outcome {
        case .failed(.couldNotConnect(let detail), let url): return all(.pending, "\(url): could not connect: \(detail)")
        // A receiver (or a redirect) on a refused address will not move: no retries.
        case .failed(let error, let url) where error.isAddressRefusal: return all(.invalidCalendarService, "\(url): \(error)")
        case .failed(.invalidRequest(let detail), _): return all(.serviceCannotHandle, detail)
        case .failed(let error, let url): return all(.serviceUnavailable, "\(url): \(error)")
        case .downgrade(let from, let to): return all(.invalidCalendarService, "\(from) redirected to \(to): refusing to leave TLS")
        case .tooMany: return all(.invalidCalendarService, "more than \(settings.maxRedirects) redirects from \(receiver)")
        case .answered(let response, let url, let movedTo):
            if let movedTo { movedReceivers.withLock { $0[receiver] = movedTo } }
            return read(response, from: url, receiver: receiver, message: message, batch: batch)
        }
    }

    /// The receiver's answer for each recipient of the batch.
    private func read(
        _ response: HTTPClientResponse, from url: String, receiver: String, message: DeliveryMessage,
        batch: [Int]
    ) -> RecipientAnswers {
        if let serial = response.values("iSchedule-Capabilities").first {
            capabilities.noteAdvertisedSerial(serial, for: receiver)
        }
        // 4xx: the receiver refuses this message as it is (permanent); anything else may pass.
        guard response.status == 200 else {
            let refusal = (try? ErrorDocument(xml: response.body)).map { " (\($0.precondition))" } ?? ""
            return message.answers(
                batch, (400..<500).contains(response.status) ? .invalidCalendarService : .serviceUnavailable,
                "\(url) answered HTTP \(response.status)\(refusal)")
        }
        guard let answer = try? ScheduleResponse(xml: response.body) else {
            return message.answers(batch, .serviceUnavailable, "\(url) answered without a readable schedule-response")
        }
        var answers = message.noAnswers
        answers.merge(answer, for: batch, source: url)
        return answers
    }

    /// The Host header a client sends for `url`: the host, and the port unless it is the scheme's own.
    static func hostHeader(of url: String) -> String? {
        guard let components = URLComponents(string: url), let host = components.percentEncodedHost, !host.isEmpty else { return nil }
        let name = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        guard let port = components.port, port != (components.scheme?.lowercased() == "https" ? 443 : 80) else { return name }
        return "\(name):\(port)"
    }

    /// The path and query of an absolute URL (for the request line the signature does not cover).
    static func path(of url: String) -> String {
        guard let components = URLComponents(string: url) else { return "/" }
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        return components.percentEncodedQuery.map { "\(path)?\($0)" } ?? path
    }
}

extension HTTPClientError {
    var isAddressRefusal: Bool { if case .addressNotAllowed = self { true } else { false } }
}
