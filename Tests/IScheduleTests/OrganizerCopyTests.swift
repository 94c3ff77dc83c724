import ISchedule
import Testing

/// `OrganizerCopy`: what a calendar-query answer holds, and which stored object speaks for an
/// organizer (the rule `confirmed`).
struct OrganizerCopyTests {
    static let alice = CalendarUserAddress("mailto:alice@alpha.test")!

    static func stored(uid: String, organizer: String = "mailto:alice@alpha.test", method: String? = nil) -> [UInt8] {
        Array(
            (["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Radicale//EN"] + (method.map { ["METHOD:\($0)"] } ?? [])
                + [
                    "BEGIN:VEVENT", "UID:\(uid)", "DTSTAMP:20261201T000000Z", "DTSTART:20301201T100000Z", "DTEND:20301201T110000Z",
                    "SUMMARY:Budget", "ORGANIZER:\(organizer)", "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:Erin@Beta.test", "END:VEVENT", "END:VCALENDAR"
                ]).joined(separator: "\n").utf8)
    }

    @Test("confirmed: the one stored object with exactly this UID and this ORGANIZER, as a REQUEST with CRLF, and its attendees")
    func confirmed() throws {
        let found = OrganizerCopy.confirmed(uid: "ev-1", organizer: Self.alice, among: [Self.stored(uid: "ev-10"), Self.stored(uid: "ev-1")])
        let copy = try #require(found)
        let text = String(decoding: copy.calendar, as: UTF8.self)
        #expect(text.hasPrefix("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\n") && text.contains("UID:ev-1\r\n") && text.hasSuffix("END:VCALENDAR\r\n"))
        #expect(copy.attendees == ["erin@beta.test"])
    }

    @Test("confirmed: nothing for a substring UID, another ORGANIZER, a stored METHOD, two copies, or none")
    func confirmedRefuses() {
        #expect(OrganizerCopy.confirmed(uid: "ev-1", organizer: Self.alice, among: [Self.stored(uid: "ev-10")]) == nil)
        #expect(
            OrganizerCopy.confirmed(uid: "ev-1", organizer: Self.alice, among: [Self.stored(uid: "ev-1", organizer: "mailto:ceo@alpha.test")]) == nil)
        #expect(OrganizerCopy.confirmed(uid: "ev-1", organizer: Self.alice, among: [Self.stored(uid: "ev-1", method: "REQUEST")]) == nil)
        #expect(OrganizerCopy.confirmed(uid: "ev-1", organizer: Self.alice, among: [Self.stored(uid: "ev-1"), Self.stored(uid: "ev-1")]) == nil)
        #expect(OrganizerCopy.confirmed(uid: "ev-1", organizer: Self.alice, among: []) == nil)
    }

    @Test(
        "calendars(inMultistatus:): the calendar-data of each 200 propstat, escaped text decoded; a document that is no multistatus is refused"
    )
    func calendarsInMultistatus() throws {
        let body = """
            <?xml version='1.0' encoding='utf-8'?>
            <multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><response><href>/alice/calendar/a.ics</href><propstat><prop>\
            <C:calendar-data>BEGIN:VCALENDAR&#13;
            SUMMARY:R&amp;D&#13;
            END:VCALENDAR&#13;
            </C:calendar-data></prop><status>HTTP/1.1 200 OK</status></propstat></response>\
            <response><href>/alice/calendar/b.ics</href><propstat><prop><C:calendar-data>BEGIN:VCALENDAR</C:calendar-data></prop>\
            <status>HTTP/1.1 404 Not Found</status></propstat></response></multistatus>
            """
        let calendars = try OrganizerCopy.calendars(inMultistatus: Array(body.utf8))
        #expect(calendars.map { String(decoding: $0, as: UTF8.self) } == ["BEGIN:VCALENDAR\r\nSUMMARY:R&D\r\nEND:VCALENDAR\r\n"])
        #expect(throws: IScheduleError.self) { try OrganizerCopy.calendars(inMultistatus: Array("<error xmlns='DAV:'/>".utf8)) }
    }

    @Test("query(uid:): a calendar-query with the UID escaped as XML text")
    func queryEscapesTheUID() {
        let query = String(decoding: OrganizerCopy.query(uid: "a<b&c"), as: UTF8.self)
        #expect(query.contains("<C:text-match collation=\"i;octet\">a&lt;b&amp;c</C:text-match>") && query.contains("<C:calendar-data/>"))
    }

    @Test("isSearchable: a UID shorter than 8 octets is not looked up (text-match finds every UID containing it)")
    func isSearchable() {
        #expect(!OrganizerCopy.isSearchable(uid: "-") && !OrganizerCopy.isSearchable(uid: "1234567"))
        #expect(OrganizerCopy.isSearchable(uid: "12345678"))
    }
}
