import Testing

@testable import ISchedule

/// §5 and §13 checks 23 and 25: schedule-response and error documents.
@Suite struct ResponseDocumentTests {
    @Test func scheduleResponseRoundTrips() throws {
        let response = ScheduleResponse(items: [
            .init(
                recipient: "mailto:bob@example.org", requestStatus: .success,
                calendarData: "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nEND:VCALENDAR\r\n", calendarDataContentType: "text/calendar"),
            .init(
                recipient: "mailto:nobody@example.org", requestStatus: .invalidCalendarUser,
                error: (namespace: iScheduleNamespace, name: "recipient-invalid"), responseDescription: "Unknown <recipient> & co")
        ])
        let xml = response.xml()
        #expect(xml.contains("&lt;recipient&gt; &amp; co"))
        #expect(xml.contains("&#13;"), "CR in calendar data must survive XML line-end normalization")
        let parsed = try ScheduleResponse(xml: Array(xml.utf8))
        #expect(parsed == response)
        #expect(parsed.item(for: "MAILTO:Bob@example.org")?.requestStatus == .success)
    }

    @Test func oldDialectsAreRead() throws {
        let old = """
            <?xml version="1.0"?><C:schedule-response xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:D="DAV:">
            <C:response><C:recipient><D:href>mailto:bob@example.org</D:href></C:recipient>
            <C:request-status>2.0;Success</C:request-status><D:responsedescription>OK</D:responsedescription></C:response>
            </C:schedule-response>
            """
        let parsed = try ScheduleResponse(xml: Array(old.utf8))
        #expect(parsed.items.count == 1)
        #expect(parsed.items[0].recipient == "mailto:bob@example.org")
        #expect(parsed.items[0].responseDescription == "OK")
    }

    @Test func malformedResponsesAreRefused() {
        let missingStatus =
            "<schedule-response xmlns=\"urn:ietf:params:xml:ns:ischedule\"><response><recipient>mailto:a@b.c</recipient></response></schedule-response>"
        #expect(throws: XMLReadError("response 1 has no valid <request-status>")) { try ScheduleResponse(xml: Array(missingStatus.utf8)) }
        let badStatus = missingStatus.replacingOccurrences(of: "</recipient>", with: "</recipient><request-status>OK</request-status>")
        #expect(throws: XMLReadError.self) { try ScheduleResponse(xml: Array(badStatus.utf8)) }
        #expect(throws: XMLReadError.self) { try ScheduleResponse(xml: Array("<html/>".utf8)) }
    }

    @Test func errorDocumentsRoundTripAndAppleDAVRootIsRead() throws {
        let document = ErrorDocument(IScheduleError(.verificationFailed, "body hash mismatch"))
        let xml = document.xml()
        #expect(xml.contains("<error xmlns=\"urn:ietf:params:xml:ns:ischedule\"><verification-failed/>"))
        let parsed = try ErrorDocument(xml: Array(xml.utf8))
        #expect(parsed.code == .verificationFailed && parsed.responseDescription == "body hash mismatch")
        let apple =
            "<D:error xmlns:D=\"DAV:\" xmlns:I=\"urn:ietf:params:xml:ns:ischedule\"><I:originator-missing/><D:responsedescription>no</D:responsedescription></D:error>"
        #expect(try ErrorDocument(xml: Array(apple.utf8)).code == .originatorMissing)
        #expect(throws: XMLReadError("<error> names no precondition")) {
            try ErrorDocument(xml: Array("<error xmlns=\"urn:ietf:params:xml:ns:ischedule\"/>".utf8))
        }
    }

    @Test func requestStatusParsing() {
        #expect(RequestStatus(parsing: "2.0;Success") == .success)
        #expect(RequestStatus(parsing: " 3.7;Invalid calendar user ")?.code == "3.7")
        #expect(RequestStatus(parsing: "5.1.2;x;y")?.text == "x;y")
        #expect(RequestStatus(parsing: "2.0") == nil)
        #expect(RequestStatus(parsing: "22.0;x") == nil)
        #expect(RequestStatus(parsing: "a.b;x") == nil)
        #expect(RequestStatus.delivered.isSuccess && !RequestStatus.serviceUnavailable.isSuccess)
    }

    @Test func preconditionStatuses() {
        #expect(IScheduleErrorCode.verificationFailed.httpStatus == 403)
        #expect(IScheduleErrorCode.originatorDenied.httpStatus == 403)
        #expect(IScheduleErrorCode.originatorMissing.httpStatus == 400)
    }
}
