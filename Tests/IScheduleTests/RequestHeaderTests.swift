import Testing

@testable import ISchedule

/// §13 checks 16–19: header rules.
@Suite struct RequestHeaderTests {
    private func head(_ headers: [(name: String, value: String)], requireVersion: Bool = true) throws(IScheduleError) -> ScheduleRequestHead {
        try ScheduleRequestHead(headers: headers, requireVersion: requireVersion)
    }

    private func code(_ headers: [(name: String, value: String)], requireVersion: Bool = true) -> IScheduleErrorCode? {
        do {
            _ = try head(headers, requireVersion: requireVersion)
            return nil
        } catch { return error.code }
    }

    @Test func cleanHeadersParse() throws {
        let parsed = try head(Samples.headers)
        #expect(parsed.originator.text == "mailto:alice@example.com")
        #expect(parsed.recipients.map(\.text) == ["mailto:bob@example.org"])
        #expect(parsed.version == "1.0" && parsed.messageID == "m-1")
        #expect(parsed.contentType["method"] == "REQUEST" && parsed.contentType["Component"] == "VEVENT")
    }

    @Test func versionRules() {
        #expect(code(Samples.replacing("iSchedule-Version", with: ["2.0"])) == .versionNotSupported)
        #expect(code(Samples.replacing("iSchedule-Version", with: ["1"])) == .versionNotSupported)
        #expect(code(Samples.replacing("iSchedule-Version", with: ["1.0", "1.1"])) == .versionNotSupported)
        #expect(code(Samples.replacing("iSchedule-Version", with: [])) == .versionNotSupported)
        #expect(code(Samples.replacing("iSchedule-Version", with: []), requireVersion: false) == nil)
        #expect(code(Samples.replacing("iSchedule-Version", with: [" 1.1 "])) == nil)
    }

    @Test func originatorRules() {
        #expect(code(Samples.replacing("Originator", with: [])) == .originatorMissing)
        #expect(code(Samples.replacing("Originator", with: ["  "])) == .originatorMissing)
        #expect(code(Samples.replacing("Originator", with: ["mailto:a@example.com", "mailto:b@example.com"])) == .tooManyOriginators)
        #expect(code(Samples.replacing("Originator", with: ["mailto:a@example.com, mailto:b@example.com"])) == .tooManyOriginators)
        #expect(code(Samples.replacing("Originator", with: ["not an address"])) == .originatorInvalid)
    }

    @Test func recipientsFromSeveralHeadersAndListsAreTrimmedAndDeduplicated() throws {
        #expect(code(Samples.replacing("Recipient", with: [])) == .recipientMissing)
        #expect(code(Samples.replacing("Recipient", with: [" , "])) == .recipientMissing)
        let parsed = try head(
            Samples.replacing(
                "Recipient",
                with: [
                    "mailto:a@example.org, mailto:b@example.org", " mailto:c@example.org ",
                    "MAILTO:A@example.org", "zed@sink.test", "urn:uuid:1"
                ]))
        #expect(
            parsed.recipients.map(\.text) == [
                "mailto:a@example.org", "mailto:b@example.org", "mailto:c@example.org",
                "zed@sink.test", "urn:uuid:1"
            ])
        #expect(parsed.recipients[3].address?.normalized == "mailto:zed@sink.test")
        #expect(parsed.recipients[4].address?.domain == nil)
    }

    @Test func contentTypeRules() {
        #expect(code(Samples.replacing("Content-Type", with: ["text/plain"])) == .invalidCalendarDataType)
        #expect(code(Samples.replacing("Content-Type", with: [])) == .invalidCalendarDataType)
        #expect(code(Samples.replacing("Content-Type", with: ["text/calendar; charset=iso-8859-1"])) == .invalidCalendarDataType)
        #expect(code(Samples.replacing("Content-Type", with: ["TEXT/Calendar ; charset=\"UTF-8\" ; component=VEVENT"])) == nil)
        #expect(code(Samples.replacing("Content-Type", with: ["text/calendar; charset=\"utf-8"])) == .invalidCalendarDataType)
    }

    @Test func mediaTypeParsing() {
        let type = MediaType("text/calendar;  component=\"VEVENT\";\tMETHOD=reply ")
        #expect(type?.essence == "text/calendar")
        #expect(type?["method"] == "reply" && type?["component"] == "VEVENT")
        #expect(MediaType("text/xml; charset=utf-8")?.isXML == true)
        #expect(MediaType("application/xml")?.isXML == true)
        #expect(MediaType("application/json")?.isXML == false)
        #expect(MediaType("garbage") == nil)
    }

    @Test func addressNormalization() {
        let address = CalendarUserAddress("MailTo:Bob@Example.ORG")
        #expect(address?.normalized == "mailto:bob@example.org")
        // A query or parameters could make the forwarded text name another domain than the one checked.
        #expect(CalendarUserAddress("MailTo:Bob@Example.ORG?subject=x") == nil)
        #expect(CalendarUserAddress("mailto:ann@peer.test?x=@example.com") == nil)
        #expect(CalendarUserAddress("mailto:ann@peer.test;x=y") == nil)
        #expect(address?.domain == "example.org")
        #expect(address == CalendarUserAddress("mailto:bob@example.org"))
        #expect(CalendarUserAddress("mailto:") == nil)
        #expect(CalendarUserAddress("mailto:nobody") == nil)
        #expect(CalendarUserAddress("https://cal.example.com/u/1")?.scheme == "https")
    }
}
