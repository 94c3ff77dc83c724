import Foundation
import ISchedule
import TestSupport
import TestTraits
import Testing

/// Free/busy of Radicale and Xandikos users for other organisations: a signed VFREEBUSY REQUEST
/// from alpha.test is answered by the gateway from each server's `free-busy-query` (`free-busy:`
/// with each server's URL pattern): exactly the users' busy periods. Radicale is asked by a
/// service account granted `f` (free/busy, not the events); Xandikos has no authentication.
@Suite("Free/busy of Radicale and Xandikos users, by iSchedule", .serialized, .waitsOnProcesses)
struct TodaysServersFreeBusyTests {
    /// An event of the week the test VFREEBUSY asks about (1–8 December 2026), no attendees.
    static func busy(_ organizer: String, start: String, end: String) -> String {
        String(decoding: ITIP.calendar(method: "REQUEST", organizer: organizer, attendees: []), as: UTF8.self)
            .replacingOccurrences(of: "METHOD:REQUEST\r\n", with: "")
            .replacingOccurrences(of: "DTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z", with: "DTSTART:\(start)\r\nDTEND:\(end)")
    }

    @Test func busyPeriodsComeFromEachServer() throws {
        let radicale = try TestRadicale(
            users: ["bob": "bob-pw", "ischedule-freebusy": "fb-pw"], freeBusyGrants: [("ischedule-freebusy", "[^/]+")], smtpPort: nil, from: "")
        defer { radicale.stop() }
        let tls = try TestCertificates().issue("localhost", subjectAltNames: ["DNS:localhost"])
        let sink = try TestSMTPServer(mode: .plain, cert: tls.cert, key: tls.key)
        defer { sink.stop() }
        let xandikos = try TestXandikos(user: "alice", address: "mailto:alice@xandikos.test", smtpPort: sink.port, from: "caldav@xandikos.test")
        defer { xandikos.stop() }
        #expect(
            try radicale.put("a.ics", Self.busy("mailto:bob@radicale.test", start: "20261202T090000Z", end: "20261202T100000Z"), as: "bob") == 201)
        #expect(
            try radicale.put("b.ics", Self.busy("mailto:bob@radicale.test", start: "20261203T140000Z", end: "20261203T150000Z"), as: "bob") == 201)
        #expect(try xandikos.put("c.ics", Self.busy("mailto:alice@xandikos.test", start: "20261204T080000Z", end: "20261204T093000Z")) == 201)

        let bed = try InboundBed(overrides: [
            "imip": ["smtp-url": "smtp://127.0.0.1:\(sink.port)", "from": "calendar-gateway@radicale.test", "require-tls": false],
            "domains": [
                "radicale.test": [
                    "delivery": "imip",
                    "free-busy": [
                        "calendars": [.scalar("http://127.0.0.1:\(radicale.port)/{user}/calendar/")], "username": "ischedule-freebusy",
                        "password": "fb-pw", "allow-from": ["alpha.test"]
                    ]
                ],
                "xandikos.test": [
                    "delivery": "imip",
                    "free-busy": [
                        "calendars": [.scalar("http://127.0.0.1:\(xandikos.port)/{user}/calendars/calendar/")], "allow-from": ["alpha.test"]
                    ]
                ]
            ]
        ])
        defer { _ = bed.stop() }
        let recipients = ["mailto:bob@radicale.test", "mailto:alice@xandikos.test"]
        let body = ITIP.calendar(method: "REQUEST", component: "VFREEBUSY", organizer: "mailto:ann@alpha.test", attendees: recipients)
        let headers = try RemoteSigner(domain: "alpha.test").sign(
            [
                ("Originator", "mailto:ann@alpha.test"), ("Recipient", recipients.joined(separator: ",")),
                ("Content-Type", ITIP.contentType("REQUEST", "VFREEBUSY"))
            ], body: body)
        let response = try bed.post(headers, body: body)
        let items = try #require(scheduleResponse(response)?.items, "\(response.text)")
        #expect(items.map(\.requestStatus.code) == ["2.0", "2.0"], "\(response.text)\n\(bed.gateway.log.suffix(1_500))")
        func periods(_ item: ScheduleResponse.Item?) -> [String] {
            (item?.calendarData ?? "").replacingOccurrences(of: "\r\n ", with: "").split(separator: "\r\n").filter { $0.hasPrefix("FREEBUSY") }
                .flatMap { $0.split(separator: ":", maxSplits: 1).last?.split(separator: ",").map(String.init) ?? [] }
        }
        #expect(
            periods(items.first) == ["20261202T090000Z/20261202T100000Z", "20261203T140000Z/20261203T150000Z"], "\(items.first?.calendarData ?? "")")
        #expect(periods(items.last) == ["20261204T080000Z/20261204T093000Z"], "\(items.last?.calendarData ?? "")")
    }
}
