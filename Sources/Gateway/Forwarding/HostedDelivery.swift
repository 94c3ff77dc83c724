internal import ISchedule
internal import Logging

/// Delivers to the recipients this gateway hosts: one forward per local domain (in parallel), each
/// upstream's answer read back per recipient. Serves inbound requests and the hosted recipients
/// of outbound ones alike.
struct HostedDelivery: Sendable {
    let forwarder: UpstreamForwarder
    let domains: [String: GatewayConfiguration.LocalDomain]
    let logger: Logger

    init(forwarder: UpstreamForwarder, configuration: GatewayConfiguration, logger: Logger) {
        self.forwarder = forwarder
        domains = Dictionary(configuration.domains.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.logger = logger
    }

    struct Result: Sendable {
        var answers: RecipientAnswers
        /// The refusal of the one upstream asked, when exactly one was asked and it refused the whole request.
        var soleRefusal: GatewayResponse?
    }

    /// - Parameters:
    ///   - groups: local domain → indices of its recipients in `recipients`.
    ///   - revealsFailures: whether a failure's cause is told (to the local server) or only logged (to a remote sender).
    func deliver(
        _ message: UpstreamForwarder.Message, recipients: [ScheduleRequestHead.Recipient], groups: [String: [Int]],
        revealsFailures: Bool
    ) async -> Result {
        let results = await withTaskGroup(of: (String, UpstreamForwarder.Outcome).self) { group in
            for (name, indices) in groups {
                guard let domain = domains[name] else { continue }
                let texts = indices.map { Self.forwardedForm(recipients[$0]) }
                group.addTask { (name, await forwarder.forward(message, recipients: texts, to: domain)) }
            }
            var results: [(String, UpstreamForwarder.Outcome)] = []
            for await result in group { results.append(result) }
            return results
        }
        var answers = RecipientAnswers(recipients: recipients)
        var soleRefusal: GatewayResponse?
        for (name, outcome) in results {
            let indices = groups[name] ?? []
            switch outcome {
            case .answered(let response): answers.merge(response, for: indices, source: "the \(name) upstream")
            case .refused(let refusal):
                if results.count == 1 { soleRefusal = refusal }
                answers.answer(
                    indices, refusal.status >= 500 ? .serviceUnavailable : .serviceCannotHandle,
                    description: "the \(name) upstream answered HTTP \(refusal.status)")
            case .failed(let reason):
                logger.warning("forward to \(name) upstream failed: \(reason)")
                answers.answer(indices, .serviceUnavailable, description: revealsFailures ? reason : "the \(name) calendar server is unavailable")
            }
        }
        return Result(answers: answers, soleRefusal: soleRefusal)
    }

    /// A recipient as the upstream gets it: written from the parsed address (a bare `user@domain`,
    /// DAViCal's draft-01 Recipient, becomes `mailto:user@domain`); answers are matched by address.
    static func forwardedForm(_ recipient: ScheduleRequestHead.Recipient) -> String {
        recipient.address?.canonical ?? recipient.text
    }
}
