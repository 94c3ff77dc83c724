import Testing

@testable import ISchedule

/// Free/busy from a CalDAV server's free-busy-query answer to an iTIP REPLY (no I/O).
@Suite struct FreeBusyReplyTests {
    static let request = Array(
        ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nMETHOD:REQUEST\r\nBEGIN:VFREEBUSY\r\nUID:fb-1\r\n"
            + "DTSTAMP:20261126T100000Z\r\nDTSTART:20261201T000000Z\r\nDTEND:20261208T000000Z\r\nORGANIZER:mailto:ann@peer.test\r\n"
            + "ATTENDEE:mailto:bob@ours.test\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n").utf8)

    @Test func onlyBusyPeriodsAreRead() throws {
        let answer = Array(
            ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//server//EN\r\nBEGIN:VFREEBUSY\r\nDTSTAMP:20261126T100000Z\r\n"
                + "DTSTART:20261201T000000Z\r\nDTEND:20261208T000000Z\r\nFREEBUSY:20261201T100000Z/20261201T110000Z,20261202T090000Z/PT30M\r\n"
                + "FREEBUSY;FBTYPE=FREE:20261203T000000Z/20261203T100000Z\r\nFREEBUSY;FBTYPE=BUSY-TENTATIVE:20261204T140000Z/20261204T150000Z\r\n"
                + "COMMENT:not copied\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n").utf8)
        let periods = try FreeBusyReply.busyPeriods(in: answer)
        #expect(
            periods == [
                .init(type: "BUSY", period: "20261201T100000Z/20261201T110000Z"), .init(type: "BUSY", period: "20261202T090000Z/PT30M"),
                .init(type: "BUSY-TENTATIVE", period: "20261204T140000Z/20261204T150000Z")
            ])
        let message = try ITIPMessage(parsing: Self.request)
        let reply = String(
            decoding: FreeBusyReply.reply(to: message, attendee: "mailto:bob@ours.test", periods: periods, stamp: "20261126T120000Z"),
            as: UTF8.self)
        #expect(
            reply == "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//ischedule-gateway//free-busy from CalDAV//EN\r\nMETHOD:REPLY\r\n"
                + "BEGIN:VFREEBUSY\r\nUID:fb-1\r\nDTSTAMP:20261126T120000Z\r\nDTSTART:20261201T000000Z\r\nDTEND:20261208T000000Z\r\n"
                + "ORGANIZER:mailto:ann@peer.test\r\nATTENDEE:mailto:bob@ours.test\r\n"
                + "FREEBUSY;FBTYPE=BUSY:20261201T100000Z/20261201T110000Z,20261202T090000Z/PT30M\r\n"
                + "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20261204T140000Z/20261204T150000Z\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n")
        // The reply is itself a valid iTIP free-busy REPLY.
        let parsed = try ITIPMessage(parsing: Array(reply.utf8))
        #expect(parsed.method == .reply && parsed.componentType == "VFREEBUSY")
    }

    @Test func malformedAnswersAreRefused() {
        for value in ["20261201T100000/20261201T110000Z", "20261201T100000Z", "20261201T100000Z/tomorrow", "X;Y"] {
            let answer = Array("BEGIN:VCALENDAR\r\nBEGIN:VFREEBUSY\r\nFREEBUSY:\(value)\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n".utf8)
            #expect(throws: IScheduleError.self, "\(value)") { try FreeBusyReply.busyPeriods(in: answer) }
        }
        #expect(throws: IScheduleError.self) { try FreeBusyReply.busyPeriods(in: Array("<html>403</html>".utf8)) }
    }

    @Test func queryAsksForTheRange() {
        let body = String(decoding: FreeBusyReply.queryBody(start: "20261201T000000Z", end: "20261208T000000Z"), as: UTF8.self)
        #expect(body.contains("<C:free-busy-query xmlns:C=\"urn:ietf:params:xml:ns:caldav\">"))
        #expect(body.contains("<C:time-range start=\"20261201T000000Z\" end=\"20261208T000000Z\"/>"))
    }
}
