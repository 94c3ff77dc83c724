import ISchedule
import Testing

@Suite("Recipient answers")
struct RecipientAnswersTests {
    static let head = try! ScheduleRequestHead(
        headers: [
            ("Originator", "mailto:a@x.test"), ("Recipient", "mailto:B@y.test, mailto:c@y.test"), ("Recipient", "mailto:d@z.test"),
            ("Content-Type", "text/calendar")
        ], requireVersion: false)

    @Test("answers merge in request order; a recipient missing from a response gets 5.1; one nobody answered 5.0")
    func mergeAResponse() {
        var answers = RecipientAnswers(recipients: Self.head.recipients)
        answers.answer(2, .noSchedulingSupport)
        answers.merge(ScheduleResponse(items: [.init(recipient: "mailto:b@y.test", requestStatus: .delivered)]), for: [0, 1], source: "y")
        let response = answers.response()
        #expect(response.items.map(\.recipient) == ["mailto:B@y.test", "mailto:c@y.test", "mailto:d@z.test"])
        #expect(response.items.map(\.requestStatus.code) == ["1.2", "5.1", "5.3"])
        #expect(answers.unanswered.isEmpty)
        #expect(RecipientAnswers(recipients: Self.head.recipients).response().items.map(\.requestStatus.code) == ["5.0", "5.0", "5.0"])
    }

    @Test("parts answered by different stages merge into one answer; the later part wins where both answer")
    func mergeParts() {
        let local = RecipientAnswers(recipients: Self.head.recipients, [2], .invalidCalendarUser, "not ours")
        let remote = RecipientAnswers(recipients: Self.head.recipients, [0, 1], .pending, "queued")
        var delivered = RecipientAnswers(recipients: Self.head.recipients)
        delivered.answer(1, with: ScheduleResponse.Item(recipient: "mailto:C@Y.TEST", requestStatus: .delivered))
        let all = local.merging(remote).merging(delivered)
        #expect(all.map(\.index) == [0, 1, 2])
        #expect(all.map(\.status.code) == ["1.0", "1.2", "3.7"])
        // Every answer names its recipient as the request spelled it, whoever wrote the item.
        #expect(all[1]?.recipient == "mailto:c@y.test")
        #expect(all.restricted(to: [1, 2]).map(\.index) == [1, 2] && all.restricted(to: []).isEmpty)
    }

    @Test("heldForSecurityTravelsWithItsAnswer: merged, taken and restricted answers keep their hold; a later answer without one clears it")
    func heldForSecurityTravelsWithItsAnswer() {
        var refused = RecipientAnswers(recipients: Self.head.recipients, [0, 1], .serviceUnavailable, "DANE failure")
        refused.holdForSecurity([0, 1])
        var live = RecipientAnswers(recipients: Self.head.recipients)
        live.take(0, from: refused)
        #expect(live.heldForSecurity == [0])
        let merged = RecipientAnswers(recipients: Self.head.recipients, [2], .delivered, "ok").merging(refused)
        #expect(merged.heldForSecurity == [0, 1] && merged.restricted(to: [1, 2]).heldForSecurity == [1])
        let retried = merged.merging(RecipientAnswers(recipients: Self.head.recipients, [1], .delivered, "ok"))
        #expect(retried.heldForSecurity == [0])
    }
}
