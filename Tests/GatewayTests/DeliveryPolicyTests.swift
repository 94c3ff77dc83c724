@testable import Gateway
import ISchedule
import Testing

@Suite("Delivery policy")
struct DeliveryPolicyTests {
    let settings = GatewayConfiguration.DeliverySettings(
        retryInitial: 1, retryMaximum: 8, maxAttempts: 5, maxAge: 60, concurrency: 4, perDomainConcurrency: 2,
        pollInterval: 1, lease: 60, circuitFailures: 5, circuitCooldown: 60, keepFinished: 3600)

    @Test("backoff doubles with ±20% jitter, is capped, and is never under a second")
    func backoff() {
        let policy = DeliveryPolicy(settings: settings)
        // With retry-initial 1 s the lowest jitter would be 0.8 s: two attempts could then be
        // signed in the same second with the identical signature.
        #expect(policy.backoffMilliseconds(afterAttempts: 1, random: 0) == 1_000)
        #expect(policy.backoffMilliseconds(afterAttempts: 1, random: 0.999_999) == 1_200)
        #expect(policy.backoffMilliseconds(afterAttempts: 3, random: 0.5) == 4_000)
        #expect(policy.backoffMilliseconds(afterAttempts: 30, random: 0.5) == 8_000)
        #expect(policy.isExhausted(attempts: 5, createdAt: 0, now: 1) && policy.isExhausted(attempts: 1, createdAt: 0, now: 60_000))
        #expect(!policy.isExhausted(attempts: 4, createdAt: 0, now: 59_999))
    }

    @Test("request-status dispositions")
    func dispositions() {
        #expect(DeliveryPolicy.disposition(.pending) == .retry && DeliveryPolicy.disposition(.serviceUnavailable) == .retry)
        #expect(DeliveryPolicy.disposition(.noSchedulingSupport) == .permanent && DeliveryPolicy.disposition(.invalidCalendarService) == .permanent)
        #expect(DeliveryPolicy.disposition(.delivered) == .final && DeliveryPolicy.disposition(.invalidCalendarUser) == .final)
    }
}
