internal import ISchedule

/// The delivery rules in one place: what a request-status means, what happens to a recipient
/// after an attempt (final, retry at T, hand to e-mail, bounce, fail), and retry timing. Live
/// and queued attempts, iSchedule and e-mail records all ask `disposition`.
struct DeliveryPolicy: Sendable {
    let settings: GatewayConfiguration.DeliverySettings
    /// The jitter source, in 0..<1 (fixed in tests).
    let random: @Sendable () -> Double

    init(settings: GatewayConfiguration.DeliverySettings, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.settings = settings
        self.random = random
    }

    /// What a request-status says about the recipient.
    enum Outcome: Sendable, Equatable {
        /// Delivered, or a definitive answer about the recipient (3.x): nothing more to try.
        case definitive
        /// Could not connect (1.0), service unavailable (5.1): it may pass later.
        case temporary
        /// This way cannot take the message (5.0, 5.2, 5.3): it never will.
        case permanent
    }

    static func outcome(_ status: RequestStatus) -> Outcome {
        switch status.code {
        case "1.0", "5.1": .temporary
        case "5.0", "5.2", "5.3": .permanent
        default: .definitive
        }
    }

    /// What an attempt was, as far as the rule cares.
    struct Attempt: Sendable, Equatable {
        enum Route: Sendable, Equatable {
            /// To the recipient's iSchedule receiver.
            case iSchedule
            /// An e-mail to the MTA: an iMIP message, a mailed delivery, the original e-mail handed back.
            case email
        }

        var route: Route
        /// Attempts made, this one included.
        var attempts: Int
        /// When the message was first accepted (ms).
        var createdAt: Int64
        /// Free-busy never goes by e-mail (the live attempt answers it at once: `QueueHandoff`).
        var isFreeBusy = false
        /// A mail-filter record: the e-mail path was the recipient's, so everything not delivered
        /// goes back to it, a definitive refusal (3.x) included.
        var returnsMail = false
        /// Whether e-mail (iMIP) is configured for what iSchedule cannot deliver.
        var mailsFallbacks = false
        /// Whether a failure for good is told to an envelope sender by a bounce (DSN).
        var bounces = false
    }

    /// What happens to one recipient after an attempt.
    enum Disposition: Sendable, Equatable {
        /// Nothing more to do: delivered, or an answer the sender gets as it is.
        case final
        /// Try again at this time (ms).
        case retry(at: Int64)
        /// iSchedule will not deliver: iMIP, or the original e-mail back to the MTA.
        case handToEmail(exhausted: Bool)
        /// The e-mail path failed for good: the envelope sender gets a bounce.
        case bounce(exhausted: Bool)
        /// Nothing more can be done: recorded as failed, the answer says why.
        case fail(exhausted: Bool)
    }

    /// The disposition rule. `hasMailbox`: the recipient has an e-mail address to take it;
    /// `heldForSecurity`: the failure was a security refusal (DANE mismatch, a validator's
    /// SERVFAIL), which is never handed to iMIP instead: it fails when retries run out (a
    /// mail-filter record's original e-mail still goes back to the MTA, as any failure's does).
    func disposition(_ status: RequestStatus, after attempt: Attempt, hasMailbox: Bool, heldForSecurity: Bool = false, now: Int64) -> Disposition {
        var exhausted = false
        switch Self.outcome(status) {
        case .definitive:
            // Delivered or sent, by code: a receiver words its request-statuses its own way.
            let returned = attempt.returnsMail && attempt.route == .iSchedule && !status.isSuccess && status.code != RequestStatus.sent.code
            guard returned else { return .final }
        case .temporary:
            guard isExhausted(attempts: attempt.attempts, createdAt: attempt.createdAt, now: now) else {
                return .retry(at: now + backoffMilliseconds(afterAttempts: attempt.attempts, random: random()))
            }
            exhausted = true
        case .permanent: break
        }
        switch attempt.route {
        // A mail-filter record's original e-mail still goes back to the MTA (its own TLS policy applies).
        case .iSchedule where !attempt.isFreeBusy && (attempt.returnsMail || (attempt.mailsFallbacks && !heldForSecurity)) && hasMailbox:
            return .handToEmail(exhausted: exhausted)
        case .email where attempt.bounces: return .bounce(exhausted: exhausted)
        default: return .fail(exhausted: exhausted)
        }
    }

    /// Milliseconds to wait after `attempts` attempts: initial × 2^(attempts−1), capped, ±20%
    /// jitter (`random` in 0..<1) so that retries of many messages do not arrive together; never
    /// under one second, so a retry is never signed in the same second (`t=`) as the attempt
    /// before it: an identical signature is what a receiver's replay cache refuses.
    func backoffMilliseconds(afterAttempts attempts: Int, random: Double) -> Int64 {
        let exponent = Double(max(0, min(attempts - 1, 40)))
        let base = min(settings.retryInitial * pow2(exponent), settings.retryMaximum)
        return max(1_000, Int64((base * (0.8 + 0.4 * random) * 1000).rounded()))
    }

    /// Whether the message has had its chance: too many attempts, or too old.
    func isExhausted(attempts: Int, createdAt: Int64, now: Int64) -> Bool {
        attempts >= settings.maxAttempts || Double(now - createdAt) >= settings.maxAge * 1000
    }

    private func pow2(_ exponent: Double) -> Double {
        var value = 1.0
        for _ in 0..<Int(exponent) { value *= 2 }
        return value
    }
}

extension ScheduleResponse.Item {
    /// Why a recipient is not done, as the queue records it: the code and the receiver's words.
    var reason: String { "\(requestStatus.code) \(responseDescription ?? "")" }
}

extension RecipientAnswers {
    /// A DANE-bound receiver's failures are all held for security: the domain published the key
    /// its receiver must prove, and an attacker on the path picks which failure we see (a reset,
    /// a timeout, a refused handshake), so none of them may lead to e-mail instead. What the
    /// authenticated receiver itself answered (a definitive status) stands.
    mutating func holdFailures() {
        holdForSecurity(filter { !$0.status.isSuccess && DeliveryPolicy.outcome($0.status) != .definitive }.map(\.index))
    }
}
