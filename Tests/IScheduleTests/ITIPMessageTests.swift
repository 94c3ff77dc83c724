import Testing

@testable import ISchedule

/// iCalendar inspection and iTIP rules (§13 checks 14, 19, 20).
@Suite struct ITIPMessageTests {
    private func code(_ body: [UInt8]) -> IScheduleErrorCode? {
        do {
            _ = try ITIPMessage(parsing: body)
            return nil
        } catch { return error.code }
    }

    @Test func vectorRequestIsInspected() throws {
        let message = try ITIPMessage(parsing: Samples.request())
        #expect(message.method == .request && message.componentType == "VEVENT")
        #expect(message.uid == "4e9d6a1c-0f3b-4b8e-9d2a-5c7e1f0a9b33@example.com")
        #expect(message.organizer?.text == "mailto:alice@example.com")
        #expect(message.attendees.map(\.text) == ["mailto:alice@example.com", "mailto:bob@example.org", "mailto:carol@example.org"])
        try message.checkOriginator(#require(CalendarUserAddress("mailto:ALICE@example.com")))
        #expect(throws: IScheduleError.self) { try message.checkOriginator(CalendarUserAddress("mailto:bob@example.org")!) }
    }

    @Test func foldingQuotedParametersAndCaseAreHandled() throws {
        let message = try ITIPMessage(parsing: Samples.bytes("reply.ics"))
        #expect(message.method == .reply)
        let attendee = try #require(message.calendar.components.first?.property("ATTENDEE"))
        #expect(attendee.parameter("cn") == "Bob, the Builder")
        #expect(attendee.parameter("PARTSTAT") == "ACCEPTED")
        #expect(message.calendar.components.first?.property("ORGANIZER")?.parameter("CN") == "Alice; Org")
        #expect(message.expectedOriginator == CalendarUserAddress("mailto:bob@example.org"))
        try message.checkOriginator(CalendarUserAddress("mailto:bob@example.org")!)
        let error = #expect(throws: IScheduleError.self) { try message.checkOriginator(CalendarUserAddress("mailto:alice@example.com")!) }
        #expect(error?.code == .originatorInvalid)
    }

    @Test func freeBusyRequestRange() throws {
        let message = try ITIPMessage(parsing: Samples.bytes("freebusy-request.ics"))
        #expect(message.componentType == "VFREEBUSY")
        #expect(message.freeBusyRange?.start == "20240110T000000Z" && message.freeBusyRange?.end == "20240111T000000Z")
        #expect(message.attendees.count == 2)
    }

    @Test func malformedDataNamesTheLine() {
        let cases: [(String, String)] = [
            (
                "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
                "line 4: END:VTODO closes BEGIN:VEVENT of line 3"
            ),
            ("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nno colon here\r\nEND:VCALENDAR\r\n", "line 3: NO: expected ':' before the value"),
            ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VEVENT\r\n", "line 1: BEGIN:VCALENDAR is never closed"),
            ("BEGIN:VEVENT\r\nEND:VEVENT\r\n", "line 1: the data must start with BEGIN:VCALENDAR"),
            (" folded first\r\n", "line 1: continuation line without a line to continue"),
            ("BEGIN:VCALENDAR\r\nX-A;P=\"open:1\r\nEND:VCALENDAR\r\n", "line 2: X-A: unterminated quoted parameter value"),
            (
                "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
                "line 3: content after END:VCALENDAR (one calendar object per message)"
            )
        ]
        for (text, reason) in cases {
            do {
                _ = try ITIPMessage(parsing: Array(text.utf8))
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error == IScheduleError(.invalidCalendarData, reason))
            }
        }
        #expect(code([0xFF, 0xFE]) == .invalidCalendarData)
    }

    @Test func iTIPViolationsGiveInvalidSchedulingMessage() {
        let organizer = "ORGANIZER:mailto:o@example.com"
        let reply2 = Samples.calendar(method: "REPLY", ["UID:1", organizer, "ATTENDEE:mailto:a@x.org", "ATTENDEE:mailto:b@x.org"])
        #expect(code(reply2) == .invalidSchedulingMessage)
        let noMethod = Array("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n".utf8)
        #expect(code(noMethod) == .invalidSchedulingMessage)
        let twoFB = Array(
            String(
                decoding: Samples.calendar(
                    method: "REQUEST", component: "VFREEBUSY",
                    [
                        "DTSTART:20240101T000000Z", "DTEND:20240102T000000Z", organizer, "ATTENDEE:mailto:a@x.org",
                        "END:VFREEBUSY", "BEGIN:VFREEBUSY", "DTSTART:20240101T000000Z", "DTEND:20240102T000000Z", organizer, "ATTENDEE:mailto:a@x.org"
                    ]),
                as: UTF8.self
            ).utf8)
        #expect(code(twoFB) == .invalidSchedulingMessage)
        let local = Samples.calendar(
            method: "REQUEST", component: "VFREEBUSY",
            ["DTSTART;TZID=Europe/Paris:20240101T000000", "DTEND:20240102T000000Z", organizer, "ATTENDEE:mailto:a@x.org"])
        #expect(code(local) == .invalidSchedulingMessage)
        let floating = Samples.calendar(
            method: "REQUEST", component: "VFREEBUSY",
            ["DTSTART:20240101T000000", "DTEND:20240102T000000Z", organizer, "ATTENDEE:mailto:a@x.org"])
        #expect(code(floating) == .invalidSchedulingMessage)
        #expect(code(Samples.calendar(method: "REQUEST", ["UID:1", "ATTENDEE:mailto:a@x.org"])) == .invalidSchedulingMessage)
        #expect(code(Samples.calendar(method: "REQUEST", [organizer, "ATTENDEE:mailto:a@x.org"])) == .invalidSchedulingMessage)
        #expect(code(Samples.calendar(method: "FROB", ["UID:1", organizer])) == .invalidSchedulingMessage)
        #expect(code(Samples.calendar(method: "COUNTER", component: "VJOURNAL", ["UID:1", organizer])) == .invalidSchedulingMessage)
        #expect(code(Samples.calendar(method: "REQUEST", component: "VAVAILABILITY", ["UID:1", organizer])) == .invalidSchedulingMessage)
        #expect(code(Samples.calendar(method: "REQUEST", ["UID:1", organizer, "ATTENDEE:not-an-address"])) == .invalidSchedulingMessage)
    }

    @Test func scheduleRequestCombinesHeadersBodyAndAntiSpoofing() throws {
        let request = try ScheduleRequest(headers: Samples.headers, body: Samples.request(), requireVersion: true)
        #expect(!request.contentTypeDisagreesWithBody)
        let spoofed = Samples.replacing("Originator", with: ["mailto:mallory@example.com"])
        #expect(throws: IScheduleError.self) { try ScheduleRequest(headers: spoofed, body: Samples.request(), requireVersion: true) }
        let lying = Samples.replacing("Content-Type", with: ["text/calendar; component=VTODO; method=CANCEL"])
        #expect(try ScheduleRequest(headers: lying, body: Samples.request(), requireVersion: true).contentTypeDisagreesWithBody)
    }
}

@Suite struct ICalendarLimitTests {
    @Test func deepComponentNestingIsRefusedWithTheLine() {
        let lines = ["BEGIN:VCALENDAR"] + (1...20).map { "BEGIN:X-\($0)" } + (1...20).reversed().map { "END:X-\($0)" } + ["END:VCALENDAR"]
        do {
            _ = try ITIPMessage(parsing: Array(lines.joined(separator: "\r\n").utf8))
            Issue.record("accepted 21 levels")
        } catch {
            #expect(error == IScheduleError(.invalidCalendarData, "line 17: components nested more than 16 deep"))
        }
    }
}
