internal import ISchedule

/// Retry timing and what an answer means for the queue.
struct DeliveryPolicy: Sendable {
    let settings: GatewayConfiguration.DeliverySettings

    init(settings: GatewayConfiguration.DeliverySettings) {
        self.settings = settings
    }

    /// What a recipient's request-status means for delivery.
    enum Disposition: Sendable, Equatable {
        /// Delivered, or a definitive answer about the recipient (3.x): nothing more to do.
        case final
        /// Temporary: could not connect (1.0), service unavailable (5.1). Retry later.
        case retry
        /// The receiver cannot take this message (5.0, 5.2, 5.3): hand it to iMIP.
        case permanent
    }

    static func disposition(_ status: RequestStatus) -> Disposition {
        switch status.code {
        case "1.0", "5.1": .retry
        case "5.0", "5.2", "5.3": .permanent
        default: .final
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

    /// Whether iSchedule has had its chance: too many attempts, or too old.
    func isExhausted(attempts: Int, createdAt: Int64, now: Int64) -> Bool {
        attempts >= settings.maxAttempts || Double(now - createdAt) >= settings.maxAge * 1000
    }

    private func pow2(_ exponent: Double) -> Double {
        var value = 1.0
        for _ in 0..<Int(exponent) { value *= 2 }
        return value
    }
}
