import ISchedule
import Testing

@Suite("Free-busy attendee filter")
struct AttendeeFilterTests {
    let body = Array(
        [
            "BEGIN:VCALENDAR", "METHOD:REQUEST", "BEGIN:VFREEBUSY", "UID:1",
            "ORGANIZER:mailto:alice@alpha.test",
            "ATTENDEE;CN=\"Bob: the builder\":mailto:bob@beta.test",
            "ATTENDEE;CN=Dave:mailto:da",
            " ve@gamma.test",
            "ATTENDEE:MAILTO:Carol@Beta.test",
            "DTSTART:20261201T000000Z", "END:VFREEBUSY", "END:VCALENDAR", ""
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
