import Foundation
import ISchedule
import Synchronization
import Testing
import Transport

@testable import Gateway

/// The mail filter's way back to e-mail (`reinject` records), each rule on its own, with a fake
/// MTA (named as one: it answers as told and records what it was handed).
@Suite("Reinjection: every recipient taken from the MTA is delivered or bounced")
struct ReinjectionTests {
    /// A fake re-injection service: answers each submission from `answer`, records it.
    final class FakeMTA: MailReinjection {
        let handed = Mutex<[MailSubmission]>([])
        let answer: @Sendable (MailSubmission) -> SMTPError?
        init(_ answer: @escaping @Sendable (MailSubmission) -> SMTPError?) { self.answer = answer }
        func reinject(_ submission: MailSubmission) async throws(SMTPError) {
            handed.withLock { $0.append(submission) }
            if let error = answer(submission) { throw error }
        }
    }

    static let policy = DeliveryPolicy(
        settings: .init(
            retryInitial: 1, retryMaximum: 8, maxAttempts: 3, maxAge: 3600, concurrency: 4, perDomainConcurrency: 2,
            pollInterval: 1, lease: 60, circuitFailures: 5, circuitCooldown: 60, keepFinished: 3600))
    static let original = Array("From: alice@alpha.test\r\nSubject: Invitation\r\nMessage-ID: <m1@alpha.test>\r\n\r\nbody\r\n".utf8)

    static func record(_ recipients: [String], sender: String = "noreply@alpha.test", attempts: Int = 0) -> QueuedDelivery {
        QueuedDelivery(
            id: 7, kind: .reinject, state: .pending, domain: "beta.test", messageID: "imip-1", originator: "mailto:alice@alpha.test",
            recipients: recipients, body: original, createdAt: 1_000_000, nextAttemptAt: 0, attempts: attempts, lastError: nil,
            outcome: nil, envelopeSender: sender)
    }

    static func reinjection(_ mta: FakeMTA?) -> Reinjection {
        Reinjection(mta: mta, reportingHost: "gw.alpha.test", clock: GatewayClock { 1_005_000 })
    }

    @Test("accepted by the MTA: delivered, with the original message and envelope sender")
    func accepted() async {
        let mta = FakeMTA { _ in nil }
        let update = await Self.reinjection(mta).attempt(Self.record(["bob@beta.test"]), policy: Self.policy)
        #expect(update.state == .delivered && update.spawn.isEmpty)
        #expect(mta.handed.withLock { $0 } == [MailSubmission(sender: "noreply@alpha.test", recipients: ["bob@beta.test"], message: Self.original)])
    }

    @Test("refused for good (5xx) for one recipient: failed, and its sender gets a bounce naming it with the MTA's status")
    func refusedBounces() async throws {
        let mta = FakeMTA { _ in .rejected(code: 550, text: "5.1.1 <bob@beta.test>: no such user") }
        let update = await Self.reinjection(mta).attempt(Self.record(["bob@beta.test"]), policy: Self.policy)
        #expect(update.state == .failed)
        let bounce = try #require(update.spawn.first)
        #expect(update.spawn.count == 1 && bounce.kind == .reinject && bounce.envelopeSender == "" && bounce.recipients == ["noreply@alpha.test"])
        let text = String(decoding: bounce.body, as: UTF8.self)
        #expect(text.contains("Final-Recipient: rfc822; bob@beta.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"), "\(text)")
        #expect(text.contains("Diagnostic-Code: smtp; 550 5.1.1 <bob@beta.test>: no such user"))
        #expect(text.contains("To: noreply@alpha.test\r\n") && text.contains("Auto-Submitted: auto-replied\r\n"))
        #expect(text.contains("Content-Type: text/rfc822-headers\r\n\r\nFrom: alice@alpha.test\r\nSubject: Invitation\r\n"))
        #expect(!text.contains("\r\nbody\r\n"), "the report carries the original header, not its body")
    }

    @Test("refused for several recipients at once: each is tried alone, so a bounce names only the refused ones")
    func refusedBatchSplits() async {
        let mta = FakeMTA { _ in .rejected(code: 550, text: "5.1.1 one of them is unknown") }
        let update = await Self.reinjection(mta).attempt(Self.record(["bob@beta.test", "carol@beta.test"]), policy: Self.policy)
        #expect(update.state == .handedOff)
        #expect(update.spawn.map(\.recipients) == [["bob@beta.test"], ["carol@beta.test"]])
        #expect(update.spawn.allSatisfy { $0.kind == .reinject && $0.envelopeSender == "noreply@alpha.test" && $0.body == Self.original })
    }

    @Test("temporary trouble (4xx, no connection, shutdown) is tried again; exhausted, the sender gets a 4.4.7 bounce")
    func temporaryThenExhausted() async throws {
        for error in [SMTPError.rejected(code: 451, text: "4.3.0 later"), .couldNotConnect("refused"), .shutDown, .transfer(code: 7, message: "x")] {
            let update = await Self.reinjection(FakeMTA { _ in error }).attempt(Self.record(["bob@beta.test"]), policy: Self.policy)
            #expect(update.state == .pending && update.spawn.isEmpty && (update.nextAttemptAt ?? 0) > 1_005_000, "\(error)")
        }
        let last = await Self.reinjection(FakeMTA { _ in .couldNotConnect("refused") })
            .attempt(Self.record(["bob@beta.test"], attempts: 2), policy: Self.policy)
        #expect(last.state == .failed)
        let text = String(decoding: try #require(last.spawn.first).body, as: UTF8.self)
        #expect(text.contains("Status: 4.4.7") && text.contains("gave up"), "\(text)")
    }

    @Test("a bounce is never bounced: a refused null-sender record fails with nothing spawned")
    func bounceIsNotBounced() async {
        let update = await Self.reinjection(FakeMTA { _ in .rejected(code: 550, text: "5.1.1 gone") })
            .attempt(Self.record(["noreply@alpha.test"], sender: ""), policy: Self.policy)
        #expect(update.state == .failed && update.spawn.isEmpty)
        #expect(update.error?.contains("never bounced") == true)
    }

    @Test("a gateway without imip-intake.reinject-url keeps the record waiting, and says why")
    func noReinjectionConfigured() async {
        let update = await Self.reinjection(nil).attempt(Self.record(["bob@beta.test"]), policy: Self.policy)
        #expect(update.state == .pending && update.error?.contains("reinject-url") == true)
    }

    @Test("a mail-filter record hands its undelivered recipients back as one reinject record with the original e-mail")
    func fallbackOfAMailFilterRecord() {
        var record = Self.record(["mailto:bob@beta.test", "mailto:carol@beta.test"])
        record.kind = .iSchedule
        record.originalMail = Self.original
        let spawned = record.fallbackRecords(for: ["mailto:bob@beta.test"], reason: "3.7 Invalid Calendar User", now: 5)
        #expect(spawned.count == 1)
        #expect(spawned.first?.kind == .reinject && spawned.first?.recipients == ["bob@beta.test"])
        #expect(spawned.first?.body == Self.original && spawned.first?.envelopeSender == "noreply@alpha.test")
        // A record of the local server's own (no original e-mail) falls back to iMIP, one record per recipient.
        record.originalMail = nil
        #expect(record.fallbackRecords(for: ["mailto:bob@beta.test", "mailto:carol@beta.test"], reason: nil, now: 5).map(\.kind) == [.iMIP, .iMIP])
    }

    @Test("the status of a refusal comes from the MTA's enhanced code, else from its class")
    func statusOfARefusal() {
        #expect(DeliveryStatusNotification.status(code: 550, text: "5.7.1 relaying denied") == "5.7.1")
        #expect(DeliveryStatusNotification.status(code: 550, text: "mailbox unavailable") == "5.0.0")
        #expect(DeliveryStatusNotification.status(code: 552, text: "9.9.9 nonsense") == "5.0.0")
    }
}
