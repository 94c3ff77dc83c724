import ISchedule
import Logging
import Testing

@testable import Gateway

/// The decision points on their own, with fakes for the store and the transport and a fixed
/// clock: what the live attempt's hand-off (`QueueHandoff.settle`) and the queue's conclusion of
/// an attempt (`AttemptConclusion.update`, the worker's and a late live attempt's) make of answers.
@Suite("Decision points")
struct DecisionPointTests {
    typealias F = DecisionFixtures
    static let remote = ["mailto:bob@beta.test", "mailto:carol@beta.test", "mailto:dave@gamma.test", "urn:uuid:not-a-mailbox"]

    static func handoff(_ store: DeliveryStoreFake, mails: Bool) -> QueueHandoff {
        QueueHandoff(
            store: store, policy: F.policy, mailsFallbacks: mails, clock: F.clock, metrics: GatewayMetrics(),
            logger: Logger(label: "decision-test"))
    }

    static func answers(_ message: DeliveryMessage, _ statuses: [RequestStatus]) -> RecipientAnswers {
        var answers = message.noAnswers
        for (index, status) in statuses.enumerated() { answers.answer(index, status, description: "said \(status.code)") }
        return answers
    }

    @Test("settleQueuesRetriesPerDomain: temporary failures become one retry record per domain, answered 1.0; final answers pass as they are")
    func settleQueuesRetriesPerDomain() async throws {
        let message = try F.message(Self.remote)
        let store = DeliveryStoreFake()
        let settled = await Self.handoff(store, mails: false)
            .settle(Self.answers(message, [.serviceUnavailable, .pending, .serviceUnavailable, .delivered]), of: message)
        #expect(settled.map(\.status.code) == ["1.0", "1.0", "1.0", "1.2"])
        #expect(store.enqueued.map(\.domain) == ["beta.test", "gamma.test"])
        #expect(store.enqueued.map(\.recipients) == [["mailto:bob@beta.test", "mailto:carol@beta.test"], ["mailto:dave@gamma.test"]])
        #expect(store.enqueued.allSatisfy { $0.kind == .iSchedule && $0.attempts == 1 && $0.notBefore == F.now + 2_000 })
    }

    @Test("settleHandsPermanentFailuresToIMIP: with e-mail configured a 5.x refusal becomes an iMIP record answered 1.1; without, the answer passes")
    func settleHandsPermanentFailuresToIMIP() async throws {
        let message = try F.message(Self.remote)
        let statuses: [RequestStatus] = [.noSchedulingSupport, .invalidCalendarService, .invalidCalendarUser, .noSchedulingSupport]
        let mailing = DeliveryStoreFake()
        let mailed = await Self.handoff(mailing, mails: true).settle(Self.answers(message, statuses), of: message)
        // The urn: recipient has no mailbox: its 5.3 stands.
        #expect(mailed.map(\.status.code) == ["1.1", "1.1", "3.7", "5.3"])
        #expect(mailing.enqueued.map(\.kind) == [.iMIP, .iMIP] && mailing.enqueued.map(\.recipients) == [[Self.remote[0]], [Self.remote[1]]])
        let plain = DeliveryStoreFake()
        let answered = await Self.handoff(plain, mails: false).settle(Self.answers(message, statuses), of: message)
        #expect(answered.map(\.status.code) == ["5.3", "5.2", "3.7", "5.3"] && plain.enqueued.isEmpty)
    }

    @Test("settleNeverPromisesWhatIsNotCommitted: a store that refuses the commit turns every promise into 5.1")
    func settleNeverPromisesWhatIsNotCommitted() async throws {
        let message = try F.message(Self.remote)
        let settled = await Self.handoff(DeliveryStoreFake(refusesCommits: true), mails: true)
            .settle(Self.answers(message, [.serviceUnavailable, .noSchedulingSupport, .delivered, .invalidCalendarUser]), of: message)
        #expect(settled.map(\.status.code) == ["5.1", "5.1", "1.2", "3.7"])
        #expect(settled[0]?.responseDescription == "could not be queued")
    }

    @Test("settleAnswersFreeBusyNow: never queued nor mailed; a temporary failure is 5.1, a domain without iSchedule 3.7")
    func settleAnswersFreeBusyNow() async throws {
        let message = try F.message(Self.remote, component: "VFREEBUSY")
        let store = DeliveryStoreFake()
        let settled = await Self.handoff(store, mails: true)
            .settle(Self.answers(message, [.pending, .serviceUnavailable, .noSchedulingSupport, .delivered]), of: message)
        #expect(settled.map(\.status.code) == ["5.1", "5.1", "3.7", "1.2"] && store.enqueued.isEmpty)
    }

    static func record(
        _ recipients: [String], attempts: Int = 0, kind: QueuedDelivery.Kind = .iSchedule,
        originalMail: [UInt8]? = nil
    ) -> QueuedDelivery {
        QueuedDelivery(
            id: 7, kind: kind, state: .pending, domain: "beta.test", messageID: "m-1", originator: "mailto:alice@alpha.test",
            recipients: recipients, body: [], createdAt: F.now - 1_000, nextAttemptAt: F.now, attempts: attempts,
            lastError: nil, outcome: nil, envelopeSender: originalMail == nil ? nil : "alice@alpha.test", originalMail: originalMail)
    }

    static func conclude(_ record: QueuedDelivery, _ statuses: [RequestStatus], mails: Bool = true) throws -> DeliveryUpdate {
        let message = try F.message(record.recipients)
        return AttemptConclusion(policy: F.policy, mailsFallbacks: mails, clock: F.clock, metrics: GatewayMetrics())
            .update(for: record, message: message, answers: answers(message, statuses))
    }

    @Test("concludeKeepsOnlyTheRecipientsToRetry: the record waits for its temporary failures; the delivered are noted")
    func concludeKeepsOnlyTheRecipientsToRetry() throws {
        let update = try Self.conclude(Self.record(Array(Self.remote[0...1]), attempts: 1), [.delivered, .serviceUnavailable])
        #expect(update.state == .pending && update.recipients == [Self.remote[1]] && update.nextAttemptAt == F.now + 4_000)
        #expect(update.outcome == "delivered: mailto:bob@beta.test=1.2" && update.spawn.isEmpty)
    }

    @Test(
        "concludeHandsOverWhatIScheduleWillNotDeliver: permanent now, or temporary at max-attempts; without e-mail the record fails",
        arguments: [
            // (attempts before, status, e-mail configured) → state, spawned kinds
            (0, RequestStatus.noSchedulingSupport, true, QueuedDelivery.State.handedOff, [QueuedDelivery.Kind.iMIP]),
            (2, .serviceUnavailable, true, .handedOff, [.iMIP]), (1, .serviceUnavailable, true, .pending, []),
            (0, .noSchedulingSupport, false, .failed, []), (2, .serviceUnavailable, false, .failed, []),
            (2, .noSchedulingSupport, false, .failed, []),
            (0, .invalidCalendarUser, true, .delivered, [])
        ])
    func concludeHandsOverWhatIScheduleWillNotDeliver(
        attempts: Int, status: RequestStatus, mails: Bool, state: QueuedDelivery.State,
        spawned: [QueuedDelivery.Kind]
    ) throws {
        let update = try Self.conclude(Self.record([Self.remote[0]], attempts: attempts), [status], mails: mails)
        #expect(update.state == state && update.spawn.map(\.kind) == spawned)
        if attempts == 2 && state == .failed { #expect(update.error?.hasPrefix("gave up: ") == true) }
    }

    @Test("concludeReturnsTheMailFiltersRecipientsToTheMTA: everything not delivered, a 3.7 too, goes back as the original e-mail, in one record")
    func concludeReturnsTheMailFiltersRecipientsToTheMTA() throws {
        let original = Array("From: alice@alpha.test\r\n\r\ninvitation\r\n".utf8)
        let update = try Self.conclude(
            Self.record(Array(Self.remote[0...2]), originalMail: original),
            [.invalidCalendarUser, .noSchedulingSupport, .delivered], mails: false)
        #expect(update.state == .handedOff && update.spawn.count == 1)
        let back = try #require(update.spawn.first)
        #expect(back.kind == .reinject && back.body == original && back.envelopeSender == "alice@alpha.test")
        #expect(back.recipients == ["bob@beta.test", "carol@beta.test"])
    }

    @Test("concludeMailRetriesThenFails: a stored e-mail is retried with backoff and fails once exhausted, never handed anywhere")
    func concludeMailRetriesThenFails() throws {
        let worker = DeliveryWorker(
            store: DeliveryStoreFake(), stages: Reloadable(Self.stages()), owner: "test", transfers: LiveTransfers(),
            clock: F.clock, metrics: GatewayMetrics(), logger: Logger(label: "decision-test"))
        let mail = Self.record([Self.remote[0]], attempts: 0, kind: .mail)
        #expect(worker.concludeMail(mail, answer: (.serviceUnavailable, "busy"), policy: F.policy).nextAttemptAt == F.now + 2_000)
        var last = mail
        last.attempts = 2
        #expect(worker.concludeMail(last, answer: (.serviceUnavailable, "busy"), policy: F.policy).error == "gave up: busy")
        #expect(worker.concludeMail(mail, answer: (.serviceCannotHandle, "refused"), policy: F.policy).state == .failed)
        #expect(worker.concludeMail(mail, answer: (.sent, "queued as 4F2"), policy: F.policy).state == .delivered)
    }

    static func stages() -> DeliveryStages {
        DeliveryStages(
            iSchedule: DeliveryTransportFake(), iMIP: IMIPTransport(settings: nil, mailer: nil, clock: F.clock),
            reinjection: Reinjection(mta: nil, reportingHost: "gw.alpha.test", clock: F.clock),
            circuit: CircuitBreaker(threshold: 5, cooldownMilliseconds: 60_000), policy: F.policy)
    }
}
