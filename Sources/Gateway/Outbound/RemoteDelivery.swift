public import DKIM
internal import Foundation
public import ISchedule
internal import Synchronization
internal import Transport

/// Sends one outbound message to one remote receiver (protocol reference §8.2): capabilities
/// (cached), limits, recipients batched by `max-recipients`, DKIM-signed with the Originator's
/// domain key, redirects followed and re-signed, answers read back per recipient.
public final class RemoteDelivery: Sendable {
    let runtime: GatewayRuntime
    /// Receiver URL → where a 301/308 moved it.
    private let movedReceivers = Mutex<[String: String]>([:])

    public init(runtime: GatewayRuntime) {
        self.runtime = runtime
    }

    /// The message, as the local server submitted it.
    public struct Message: Sendable {
        public var request: ScheduleRequest
        public var body: [UInt8]
        public var messageID: String
        public var signer: DKIMSigner
    }

    /// The answer for each recipient index handed in.
    public typealias Answers = [(index: Int, item: ScheduleResponse.Item)]

    /// The same status and description for every recipient in `indices`.
    static func uniform(_ indices: [Int], of recipients: [ScheduleRequestHead.Recipient], _ status: RequestStatus,
                        _ description: String) -> Answers {
        indices.map { ($0, ScheduleResponse.Item(recipient: recipients[$0].text, requestStatus: status, responseDescription: description)) }
    }

    /// Delivers to the first reachable candidate (RFC 2782 failover happens at the capabilities step).
    public func deliver(_ message: Message, indices: [Int], candidates: [ReceiverDiscovery.Candidate]) async -> Answers {
        func all(_ status: RequestStatus, _ description: String) -> Answers {
            Self.uniform(indices, of: message.request.head.recipients, status, description)
        }
        var refusedEverywhere = true
        var addressNotAllowedEverywhere = true
        var failures: [String] = []
        var chosen: (url: String, capabilities: Capabilities)?
        for candidate in candidates {
            let url = movedReceivers.withLock { $0[candidate.url] } ?? candidate.url
            do throws(CapabilitiesError) {
                let entry = try await runtime.capabilitiesCache.capabilities(at: url)
                chosen = (entry.receiver, entry.capabilities)
            } catch {
                if case .http(_, .couldNotConnect) = error {} else { refusedEverywhere = false }
                if case .http(_, .addressNotAllowed) = error {} else { addressNotAllowedEverywhere = false }
                failures.append(error.description)
            }
            if chosen != nil { break }
        }
        guard let chosen else {
            let reason = "no receiver reachable: " + failures.joined(separator: "; ")
            // Receivers only on refused (private, loopback, …) addresses: permanent, so iMIP takes it.
            if addressNotAllowedEverywhere && !candidates.isEmpty { return all(.invalidCalendarService, reason) }
            return refusedEverywhere ? all(.pending, reason) : all(.serviceUnavailable, reason)
        }
        let message = message
        var violation: CapabilityLimits.Violation?
        do throws(CapabilityLimits.Violation) {
            try CapabilityLimits.check(bodySize: message.body.count, component: message.request.message.componentType,
                                       method: message.request.message.method.rawValue, capabilities: chosen.capabilities)
        } catch {
            violation = error
        }
        if let violation { return all(.noSchedulingSupport, violation.description) }
        var limits = chosen.capabilities
        limits.maxRecipients = min(limits.maxRecipients ?? Int.max, runtime.configuration.limits.maxRecipients)
        let batches = CapabilityLimits.batches(indices, capabilities: limits)
        return await withTaskGroup(of: Answers.self) { group in
            for (number, batch) in batches.enumerated() {
                // Each POST is its own message for the receiver's replay cache: the first batch keeps
                // the id, later ones get a stable suffix (the same on every retry).
                var part = message
                if number > 0 { part.messageID = "\(message.messageID)-\(number + 1)" }
                group.addTask { await self.send(part, batch: batch, to: chosen.url) }
            }
            var answers: Answers = []
            for await batchAnswers in group { answers += batchAnswers }
            return answers
        }
    }

    /// One POST (plus redirects) for one batch of recipients.
    private func send(_ message: Message, batch: [Int], to receiver: String) async -> Answers {
        let recipients = message.request.head.recipients
        func all(_ status: RequestStatus, _ description: String) -> Answers { Self.uniform(batch, of: recipients, status, description) }
        let itip = message.request.message
        let isFreeBusy = itip.componentType == "VFREEBUSY"
        var body = message.body
        if isFreeBusy {
            let wanted = Set(batch.compactMap { recipients[$0].address })
            body = AttendeeFilter.freeBusy(body) { wanted.contains($0) }
        }
        let timeout = Int((isFreeBusy ? runtime.configuration.timeouts.freeBusy : runtime.configuration.timeouts.remoteRequest) * 1000)
        var url = receiver
        for _ in 0...runtime.configuration.limits.maxRedirects {
            var request = HTTPRequestMessage(method: "POST", target: Self.path(of: url), headers: [
                HeaderField(name: "Originator", value: message.request.head.originator.text),
                HeaderField(name: "Recipient", value: batch.map { recipients[$0].text }.joined(separator: ",")),
                HeaderField(name: "Content-Type",
                            value: "text/calendar; charset=utf-8; component=\(itip.componentType); method=\(itip.method.rawValue)"),
                HeaderField(name: "User-Agent", value: GatewayIdentity.userAgent),
            ], body: body)
            do { try message.signer.sign(&request, now: runtime.clock.now(), messageID: message.messageID) } catch {
                return all(.serviceCannotHandle, "could not sign: \(error)")
            }
            let response: HTTPClientResponse
            do {
                response = try await runtime.remoteClient.send(HTTPClientRequest(
                    method: "POST", url: url, headers: request.headers.map { ($0.name, $0.value) }, body: body,
                    timeoutMilliseconds: timeout, addressPolicy: runtime.remoteAddressPolicy))
            } catch {
                if case .couldNotConnect = error { return all(.pending, "\(url): \(error)") }
                // A receiver (or a redirect) on a refused address will not move: no retries.
                if case .addressNotAllowed = error { return all(.invalidCalendarService, "\(url): \(error)") }
                return all(.serviceUnavailable, "\(url): \(error)")
            }
            if [301, 302, 307, 308].contains(response.status), let location = response.location {
                let next = CapabilitiesCache.resolve(location, against: url)
                if url.lowercased().hasPrefix("https:") && !next.lowercased().hasPrefix("https:") {
                    return all(.invalidCalendarService, "\(url) redirected to \(next): refusing to leave TLS")
                }
                if response.status == 301 || response.status == 308 {
                    movedReceivers.withLock { $0[receiver] = next }
                }
                url = next
                continue
            }
            if let serial = response.values("iSchedule-Capabilities").first {
                runtime.capabilitiesCache.noteAdvertisedSerial(serial, for: receiver)
            }
            // 4xx: the receiver refuses this message as it is (permanent); anything else may pass.
            guard response.status == 200 else {
                let refusal = (try? ErrorDocument(xml: response.body)).map { " (\($0.precondition))" } ?? ""
                return all((400..<500).contains(response.status) ? .invalidCalendarService : .serviceUnavailable,
                           "\(url) answered HTTP \(response.status)\(refusal)")
            }
            guard let answer = try? ScheduleResponse(xml: response.body) else {
                return all(.serviceUnavailable, "\(url) answered without a readable schedule-response")
            }
            return batch.map { index in
                if var item = answer.item(for: recipients[index].text) {
                    item.recipient = recipients[index].text
                    return (index, item)
                }
                return (index, ScheduleResponse.Item(recipient: recipients[index].text, requestStatus: .serviceUnavailable,
                                                     responseDescription: "\(url) did not answer for this recipient"))
            }
        }
        return all(.invalidCalendarService, "more than \(runtime.configuration.limits.maxRedirects) redirects from \(receiver)")
    }

    /// The path and query of an absolute URL (for the request line the signature does not cover).
    static func path(of url: String) -> String {
        guard let components = URLComponents(string: url) else { return "/" }
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        return components.percentEncodedQuery.map { "\(path)?\($0)" } ?? path
    }
}
