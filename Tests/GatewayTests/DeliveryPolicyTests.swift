import ISchedule
import Testing
import Transport

@testable import Gateway

/// The delivery rules, each on its own: `DeliveryPolicy.outcome` (what a request-status means)
/// and `DeliveryPolicy.disposition` (what happens to a recipient after an attempt), as tables.
@Suite("Delivery policy")
struct DeliveryPolicyTests {
    static let settings = GatewayConfiguration.DeliverySettings(
        retryInitial: 1, retryMaximum: 8, maxAttempts: 5, maxAge: 60, concurrency: 4, perDomainConcurrency: 2,
        pollInterval: 1, lease: 60, circuitFailures: 5, circuitCooldown: 60, keepFinished: 3600)
    /// Jitter fixed at its middle: the backoff is exactly initial × 2^(attempts−1).
    static let policy = DeliveryPolicy(settings: settings, random: { 0.5 })
    static let now: Int64 = 1_000_000
    typealias Attempt = DeliveryPolicy.Attempt

    static func disposition(_ status: RequestStatus, _ attempt: Attempt, mailbox: Bool = true) -> DeliveryPolicy.Disposition {
        policy.disposition(status, after: attempt, hasMailbox: mailbox, now: now)
    }

    @Test("backoff doubles with ±20% jitter, is capped, and is never under a second")
    func backoff() {
        let policy = DeliveryPolicy(settings: Self.settings)
        // With retry-initial 1 s the lowest jitter would be 0.8 s: two attempts could then be
        // signed in the same second with the identical signature.
        #expect(policy.backoffMilliseconds(afterAttempts: 1, random: 0) == 1_000)
        #expect(policy.backoffMilliseconds(afterAttempts: 1, random: 0.999_999) == 1_200)
        #expect(policy.backoffMilliseconds(afterAttempts: 3, random: 0.5) == 4_000)
        #expect(policy.backoffMilliseconds(afterAttempts: 30, random: 0.5) == 8_000)
        #expect(policy.isExhausted(attempts: 5, createdAt: 0, now: 1) && policy.isExhausted(attempts: 1, createdAt: 0, now: 60_000))
        #expect(!policy.isExhausted(attempts: 4, createdAt: 0, now: 59_999))
    }

    @Test(
        "outcomeOfARequestStatus: 1.0 and 5.1 may pass later, 5.0/5.2/5.3 never will, the rest is definitive",
        arguments: [
            (RequestStatus.pending, DeliveryPolicy.Outcome.temporary), (.serviceUnavailable, .temporary),
            (.serviceCannotHandle, .permanent), (.invalidCalendarService, .permanent), (.noSchedulingSupport, .permanent),
            (.sent, .definitive), (.delivered, .definitive), (.invalidCalendarUser, .definitive), (.noAuthority, .definitive)
        ])
    func outcomeOfARequestStatus(status: RequestStatus, outcome: DeliveryPolicy.Outcome) {
        #expect(DeliveryPolicy.outcome(status) == outcome)
    }

    @Test(
        "temporaryRetriesWithBackoffUntilExhausted: attempts 1–4 retry at now + 1, 2, 4, 8 s; the 5th (max-attempts) gives up",
        arguments: [
            (1, DeliveryPolicy.Disposition.retry(at: now + 1_000)), (2, .retry(at: now + 2_000)), (3, .retry(at: now + 4_000)),
            (4, .retry(at: now + 8_000)), (5, .handToEmail(exhausted: true))
        ])
    func temporaryRetriesWithBackoffUntilExhausted(attempts: Int, expected: DeliveryPolicy.Disposition) {
        let attempt = Attempt(route: .iSchedule, attempts: attempts, createdAt: Self.now, mailsFallbacks: true)
        #expect(Self.disposition(.serviceUnavailable, attempt) == expected)
        #expect(Self.disposition(.pending, attempt) == expected)
    }

    @Test("heldForSecurityIsNeverHandedToIMIP: a DANE or DNSSEC refusal retries, then fails; a mail-filter record's e-mail still goes back")
    func heldForSecurityIsNeverHandedToIMIP() {
        let first = Attempt(route: .iSchedule, attempts: 1, createdAt: Self.now, mailsFallbacks: true)
        let last = Attempt(route: .iSchedule, attempts: 5, createdAt: Self.now, mailsFallbacks: true)
        let filtered = Attempt(route: .iSchedule, attempts: 5, createdAt: Self.now, returnsMail: true)
        func held(_ attempt: Attempt) -> DeliveryPolicy.Disposition {
            Self.policy.disposition(.serviceUnavailable, after: attempt, hasMailbox: true, heldForSecurity: true, now: Self.now)
        }
        #expect(held(first) == .retry(at: Self.now + 1_000))
        #expect(held(last) == .fail(exhausted: true))
        #expect(Self.disposition(.serviceUnavailable, last) == .handToEmail(exhausted: true))
        #expect(held(filtered) == .handToEmail(exhausted: true))
    }

    @Test("holdFailures: a DANE-bound receiver's failures are all held, whatever they are; what it answered definitively stands")
    func holdFailures() throws {
        let head = try ScheduleRequestHead(
            headers: [
                ("Originator", "mailto:a@x.test"), ("Recipient", "mailto:b@y.test, mailto:c@y.test, mailto:d@y.test, mailto:e@y.test"),
                ("Content-Type", "text/calendar")
            ],
            requireVersion: false)
        var answers = RecipientAnswers(recipients: head.recipients)
        answers.answer(0, .pending, description: "could not connect")
        answers.answer(1, .invalidCalendarService, description: "redirected elsewhere")
        answers.answer(2, .delivered)
        answers.answer(3, .invalidCalendarUser, description: "no such user (the receiver's word)")
        answers.holdFailures()
        #expect(answers.heldForSecurity == [0, 1])
    }

    @Test("holdsForSecurity: a bogus answer always; under dane any server failure of the validator; never a timeout or an unvalidated failure")
    func holdsForSecurity() {
        let bogus = DNSError.bogus("x.test", ede: 6)
        let failure = DNSError.serverFailure("x.test", rcode: 2)
        #expect(IScheduleTransport.holdsForSecurity(bogus, validating: true, policy: .verify))
        #expect(!IScheduleTransport.holdsForSecurity(failure, validating: true, policy: .verify))
        #expect(IScheduleTransport.holdsForSecurity(failure, validating: true, policy: .dane))
        #expect(!IScheduleTransport.holdsForSecurity(failure, validating: false, policy: .dane))
        #expect(!IScheduleTransport.holdsForSecurity(.timeout("x.test"), validating: true, policy: .daneOnly))
    }

    @Test("temporaryRetriesUntilTooOld: a message older than max-age gives up at its next temporary failure")
    func temporaryRetriesUntilTooOld() {
        let young = Attempt(route: .iSchedule, attempts: 1, createdAt: Self.now - 59_999, mailsFallbacks: true)
        let old = Attempt(route: .iSchedule, attempts: 1, createdAt: Self.now - 60_000, mailsFallbacks: true)
        #expect(Self.disposition(.serviceUnavailable, young) == .retry(at: Self.now + 1_000))
        #expect(Self.disposition(.serviceUnavailable, old) == .handToEmail(exhausted: true))
        #expect(Self.disposition(.serviceUnavailable, Attempt(route: .iSchedule, attempts: 1, createdAt: 0)) == .fail(exhausted: true))
    }

    @Test(
        "whatIScheduleWillNotDeliverGoesToEmail only when there is a way (iMIP configured, or the mail filter's original e-mail) and a mailbox",
        arguments: [
            // (iMIP configured, mail-filter record, recipient has a mailbox) → disposition of a 5.3
            (true, false, true, DeliveryPolicy.Disposition.handToEmail(exhausted: false)), (false, true, true, .handToEmail(exhausted: false)),
            (false, false, true, .fail(exhausted: false)), (true, false, false, .fail(exhausted: false)),
            (false, true, false, .fail(exhausted: false))
        ])
    func whatIScheduleWillNotDeliverGoesToEmail(mailsFallbacks: Bool, returnsMail: Bool, mailbox: Bool, expected: DeliveryPolicy.Disposition) {
        let attempt = Attempt(route: .iSchedule, attempts: 1, createdAt: Self.now, returnsMail: returnsMail, mailsFallbacks: mailsFallbacks)
        #expect(Self.disposition(.noSchedulingSupport, attempt, mailbox: mailbox) == expected)
        #expect(Self.disposition(.invalidCalendarService, attempt, mailbox: mailbox) == expected)
    }

    @Test(
        "theMailFilterReturnsEveryUndeliveredRecipient: a definitive refusal (3.x) goes back to the MTA too; 1.1 and 1.2 are final",
        arguments: [
            (RequestStatus.invalidCalendarUser, DeliveryPolicy.Disposition.handToEmail(exhausted: false)),
            (.noAuthority, .handToEmail(exhausted: false)),
            (.delivered, .final), (.sent, .final)
        ])
    func theMailFilterReturnsEveryUndeliveredRecipient(status: RequestStatus, expected: DeliveryPolicy.Disposition) {
        let filtered = Attempt(route: .iSchedule, attempts: 2, createdAt: Self.now, returnsMail: true)
        #expect(Self.disposition(status, filtered) == expected)
        // A receiver words its statuses its own way: "1.1;Sent" is as sent as ours.
        let worded = RequestStatus(code: status.code, text: "worded by the receiver")
        #expect(Self.disposition(worded, filtered) == expected)
        // Without the original e-mail the local server is answered: a 3.x is final.
        #expect(Self.disposition(status, Attempt(route: .iSchedule, attempts: 2, createdAt: Self.now, mailsFallbacks: true)) == .final)
    }

    @Test(
        "anEmailThatFailsForGoodIsBouncedOrFailed: the e-mail route never hands to e-mail; a bounce only where a sender is told",
        arguments: [
            // (status, attempts, bounces) → disposition
            (RequestStatus.serviceCannotHandle, 1, false, DeliveryPolicy.Disposition.fail(exhausted: false)),
            (.serviceCannotHandle, 1, true, .bounce(exhausted: false)), (.serviceUnavailable, 5, false, .fail(exhausted: true)),
            (.serviceUnavailable, 5, true, .bounce(exhausted: true)), (.serviceUnavailable, 2, true, .retry(at: now + 2_000)),
            (.sent, 1, true, .final)
        ])
    func anEmailThatFailsForGoodIsBouncedOrFailed(status: RequestStatus, attempts: Int, bounces: Bool, expected: DeliveryPolicy.Disposition) {
        let attempt = Attempt(route: .email, attempts: attempts, createdAt: Self.now, returnsMail: true, mailsFallbacks: true, bounces: bounces)
        #expect(Self.disposition(status, attempt) == expected)
    }

    @Test(
        "freeBusyIsNeverMailed: a queued free-busy answer is retried, fails when exhausted or refused, and never goes to e-mail",
        arguments: [
            (RequestStatus.serviceUnavailable, 1, DeliveryPolicy.Disposition.retry(at: now + 1_000)),
            (.serviceUnavailable, 5, .fail(exhausted: true)), (.noSchedulingSupport, 1, .fail(exhausted: false)),
            (.invalidCalendarUser, 1, .final), (.delivered, 1, .final)
        ])
    func freeBusyIsNeverMailed(status: RequestStatus, attempts: Int, expected: DeliveryPolicy.Disposition) {
        let attempt = Attempt(route: .iSchedule, attempts: attempts, createdAt: Self.now, isFreeBusy: true, mailsFallbacks: true)
        #expect(Self.disposition(status, attempt) == expected)
    }
}
