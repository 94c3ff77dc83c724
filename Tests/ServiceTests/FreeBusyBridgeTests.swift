import Foundation
import TestSupport
import Testing

/// Free/busy for a domain whose CalDAV server has no iSchedule (issue 13, part 3): the gateway
/// answers a remote VFREEBUSY request from the server itself, a real DAViCal 1.1 asked with an
/// RFC 4791 free-busy-query REPORT as a service account. The asker gets busy periods only.
@Suite("Free/busy from a CalDAV server without iSchedule", .serialized)
struct FreeBusyBridgeTests {
    /// dave's calendar: a private meeting (busy), a transparent lunch (not busy), a tentative call.
    static let events = [
        ("salary.ics", "SUMMARY:Secret salary talk\r\nLOCATION:Room 101\r\nDTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z"),
        ("lunch.ics", "SUMMARY:Lunch maybe\r\nTRANSP:TRANSPARENT\r\nDTSTART:20261201T120000Z\r\nDTEND:20261201T130000Z"),
        ("call.ics", "SUMMARY:Call with the lawyer\r\nSTATUS:TENTATIVE\r\nDTSTART:20261202T140000Z\r\nDTEND:20261202T150000Z"),
    ]

    @Test("a remote asker gets the DAViCal user's busy periods and nothing else; other domains, and users DAViCal will not tell about, get 3.8")
    func busyPeriodsFromDAViCal() throws {
        let certificates = try TestCertificates()
        // DAViCal resolves nothing here: its resolv.conf names an address where no server listens.
        let davical = try TestDAViCal(domain: "gamma.test", users: ["dave", "erin"], nameserver: "127.53.0.254", certificates: certificates)
        defer { davical.stop() }
        for (name, body) in Self.events {
            let event = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:\(name)-\(UUID().uuidString.prefix(6))\r\n"
                + "DTSTAMP:20261126T120000Z\r\n\(body)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            #expect(try davical.put(user: "dave", name: name, calendar: event) == 201)
        }
        let bed = try Self.bed(freeBusy: """
                  calendars: ["\(davical.baseURL)/caldav.php/{user}/calendar/"]
                  username: erin
                  password: \(TestDAViCal.password)
                  allow-from: [alpha.test]
            """)
        defer { _ = bed.stop() }

        func ask(_ recipient: String, from domain: String) throws -> RawHTTPResponse {
            let originator = "mailto:alice@\(domain)"
            let body = ITIP.calendar(method: "REQUEST", component: "VFREEBUSY", organizer: originator, attendees: ["mailto:\(recipient)"])
            let headers = try RemoteSigner(domain: domain).sign([("Originator", originator), ("Recipient", "mailto:\(recipient)"),
                                                                 ("Content-Type", ITIP.contentType("REQUEST", "VFREEBUSY"))], body: body)
            return try bed.post(headers, body: body)
        }
        let response = try ask("dave@gamma.test", from: "alpha.test")
        let item = try #require(scheduleResponse(response)?.items.first, "\(response.text)")
        #expect(item.requestStatus.code == "2.0", "\(response.text)\n\(bed.gateway.log.suffix(2_000))")
        let reply = try #require(item.calendarData, "\(response.text)")
        let lines = reply.split(separator: "\r\n").map(String.init)
        #expect(lines.contains("METHOD:REPLY") && lines.contains("ATTENDEE:mailto:dave@gamma.test"), "\(reply)")
        #expect(lines.contains("ORGANIZER:mailto:alice@alpha.test") && lines.contains("DTSTART:20261201T000000Z"), "\(reply)")
        let freeBusy = lines.filter { $0.hasPrefix("FREEBUSY") }
        #expect(freeBusy == ["FREEBUSY;FBTYPE=BUSY:20261201T100000Z/20261201T110000Z",
                             "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20261202T140000Z/20261202T150000Z"], "\(reply)")
        // Nothing of the events themselves leaves: no summary, place or the transparent lunch.
        for secret in ["Secret", "Room 101", "lawyer", "Lunch", "T120000Z/"] { #expect(!reply.contains(secret), "\(secret) in \(reply)") }

        let stranger = try ask("dave@gamma.test", from: "other.test")
        #expect(scheduleResponse(stranger)?.items.first?.requestStatus.code == "3.8", "\(stranger.text)")
        #expect(scheduleResponse(stranger)?.items.first?.calendarData == nil)
        // DAViCal answers 403 for a user it does not have, as for one the account may not read.
        let unknown = try ask("nobody@gamma.test", from: "alpha.test")
        #expect(scheduleResponse(unknown)?.items.first?.requestStatus.code == "3.8", "\(unknown.text)")
    }

    @Test("a CalDAV server slower than timeouts.free-busy: the asker gets 5.1 at once, not after the server")
    func slowServerIsCutOff() throws {
        // Accepts connections (the kernel does) and never answers.
        let silent = try ChildProcess("/usr/bin/env", ["python3", "-c", """
            import socket, time
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
            print("ready", s.getsockname()[1], flush=True); time.sleep(120)
            """], logPath: FileManager.default.temporaryDirectory.appendingPathComponent("silent-\(UUID().uuidString.prefix(6)).log").path)
        defer { silent.stop() }
        let port = try #require(silent.announcedPort())
        let bed = try Self.bed(freeBusy: """
                  calendars: ["http://127.0.0.1:\(port)/caldav/{user}/"]
                  allow-from: ["*"]
            """, timeouts: ["free-busy": "1s"])
        defer { _ = bed.stop() }
        let body = ITIP.calendar(method: "REQUEST", component: "VFREEBUSY", organizer: "mailto:alice@alpha.test", attendees: ["mailto:dave@gamma.test"])
        let headers = try RemoteSigner(domain: "alpha.test").sign([("Originator", "mailto:alice@alpha.test"), ("Recipient", "mailto:dave@gamma.test"),
                                                                   ("Content-Type", ITIP.contentType("REQUEST", "VFREEBUSY"))], body: body)
        // The exchange gives up after 8 s: a gateway waiting for the server would fail it.
        let response = try RawHTTPConnection.exchange(port: bed.port, path: "/.well-known/ischedule", headers: headers, body: body, timeout: 8)
        let item = try #require(scheduleResponse(response)?.items.first, "\(response.text)")
        #expect(item.requestStatus.code == "5.1" && item.responseDescription == "the calendar server did not answer", "\(response.text)")
    }

    /// A gateway whose gamma.test is e-mail-only (`delivery: imip`, an SMTP server that is never
    /// used) with these `free-busy:` settings (indented under it).
    static func bed(freeBusy settings: String, timeouts: [String: String] = [:]) throws -> InboundBed {
        try InboundBed(extraConfiguration: """
            imip:
              smtp-url: smtp://127.0.0.1:9
              from: calendar-gateway@gamma.test
              require-tls: false
            """, extraDomains: """
              gamma.test:
                delivery: imip
                free-busy:
            \(settings)
            """, timeouts: timeouts)
    }
}
