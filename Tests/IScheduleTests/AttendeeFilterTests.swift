import ISchedule
import Testing

@Suite("Free-busy attendee filter")
struct AttendeeFilterTests {
    let body = Array([
        "BEGIN:VCALENDAR", "METHOD:REQUEST", "BEGIN:VFREEBUSY", "UID:1",
        "ORGANIZER:mailto:alice@alpha.test",
        "ATTENDEE;CN=\"Bob: the builder\":mailto:bob@beta.test",
        "ATTENDEE;CN=Dave:mailto:da",
        " ve@gamma.test",
        "ATTENDEE:MAILTO:Carol@Beta.test",
        "DTSTART:20261201T000000Z", "END:VFREEBUSY", "END:VCALENDAR", "",
    ].joined(separator: "\r\n").utf8)

    @Test("keeps only the receiver's attendees; folded and quoted properties handled; other bytes untouched")
    func filters() {
        let keep: Set<CalendarUserAddress> = [CalendarUserAddress("mailto:bob@beta.test")!, CalendarUserAddress("mailto:carol@beta.test")!]
        let filtered = String(decoding: AttendeeFilter.freeBusy(body) { keep.contains($0) }, as: UTF8.self)
        let expected = String(decoding: body, as: UTF8.self).replacingOccurrences(of: "ATTENDEE;CN=Dave:mailto:da\r\n ve@gamma.test\r\n", with: "")
        #expect(filtered == expected)
        #expect(AttendeeFilter.freeBusy(body) { _ in true } == body)
    }

    @Test("attendees outside VFREEBUSY are never touched")
    func onlyFreeBusy() {
        let event = Array("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nATTENDEE:mailto:x@y.test\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n".utf8)
        #expect(AttendeeFilter.freeBusy(event) { _ in false } == event)
    }
}

@Suite("Recipient outcomes")
struct RecipientOutcomesTests {
    @Test("answers merge in request order; a recipient missing from a response gets 5.1")
    func merge() throws {
        let head = try ScheduleRequestHead(headers: [("Originator", "mailto:a@x.test"), ("Recipient", "mailto:B@y.test, mailto:c@y.test"),
                                                     ("Recipient", "mailto:d@z.test"), ("Content-Type", "text/calendar")], requireVersion: false)
        var outcomes = RecipientOutcomes(recipients: head.recipients)
        outcomes.answer(2, .noSchedulingSupport)
        outcomes.merge(ScheduleResponse(items: [.init(recipient: "mailto:b@y.test", requestStatus: .delivered)]), for: [0, 1], source: "y")
        let response = outcomes.response()
        #expect(response.items.map(\.recipient) == ["mailto:B@y.test", "mailto:c@y.test", "mailto:d@z.test"])
        #expect(response.items.map(\.requestStatus.code) == ["1.2", "5.1", "5.3"])
        #expect(outcomes.unanswered.isEmpty)
    }
}
