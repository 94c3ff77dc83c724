import Foundation
import Synchronization
import TestSupport
import TestTraits
import Testing

/// Free/busy for a domain whose CalDAV server has no iSchedule (issue 13, part 3): the gateway
/// answers a remote VFREEBUSY request from the server itself, a real DAViCal 1.1 asked with an
/// RFC 4791 free-busy-query REPORT as a service account. The asker gets busy periods only.
@Suite("Free/busy from a CalDAV server without iSchedule", .serialized, .waitsOnProcesses)
struct FreeBusyBridgeTests {
    /// dave's calendar: a private meeting (busy), a transparent lunch (not busy), a tentative call.
    static let events = [
        ("salary.ics", "SUMMARY:Secret salary talk\r\nLOCATION:Room 101\r\nDTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z"),
        ("lunch.ics", "SUMMARY:Lunch maybe\r\nTRANSP:TRANSPARENT\r\nDTSTART:20261201T120000Z\r\nDTEND:20261201T130000Z"),
        ("call.ics", "SUMMARY:Call with the lawyer\r\nSTATUS:TENTATIVE\r\nDTSTART:20261202T140000Z\r\nDTEND:20261202T150000Z")
    ]

    @Test("a remote asker gets the DAViCal user's busy periods and nothing else; other domains, and users DAViCal will not tell about, get 3.8")
    func busyPeriodsFromDAViCal() throws {
        let certificates = try TestCertificates()
        // DAViCal resolves nothing here: its resolv.conf names an address where no server listens.
        let davical = try TestDAViCal(domain: "gamma.test", users: ["dave", "erin"], nameserver: "127.53.0.254", certificates: certificates)
        defer { davical.stop() }
        for (name, body) in Self.events {
            let event =
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:\(name)-\(UUID().uuidString.prefix(6))\r\n"
                + "DTSTAMP:20261126T120000Z\r\n\(body)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            #expect(try davical.put(user: "dave", name: name, calendar: event) == 201)
        }
        let bed = try Self.bed(
            freeBusy: [
                "calendars": ["\(davical.baseURL)/caldav.php/{user}/calendar/"], "username": "erin",
                "password": .scalar(TestDAViCal.password), "allow-from": ["alpha.test"]
            ])
        defer { _ = bed.stop() }

        func ask(_ recipient: String, from domain: String) throws -> RawHTTPResponse {
            let originator = "mailto:alice@\(domain)"
            let body = ITIP.calendar(method: "REQUEST", component: "VFREEBUSY", organizer: originator, attendees: ["mailto:\(recipient)"])
            let headers = try RemoteSigner(domain: domain).sign(
                [
                    ("Originator", originator), ("Recipient", "mailto:\(recipient)"),
                    ("Content-Type", ITIP.contentType("REQUEST", "VFREEBUSY"))
                ], body: body)
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
        #expect(
            freeBusy == [
                "FREEBUSY;FBTYPE=BUSY:20261201T100000Z/20261201T110000Z",
                "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20261202T140000Z/20261202T150000Z"
            ], "\(reply)")
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
        let silent = try ChildProcess(
            "/usr/bin/env",
            [
                "python3", "-c",
                """
                import socket, time
                s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
                print("ready", s.getsockname()[1], flush=True); time.sleep(120)
                """
            ], logPath: FileManager.default.temporaryDirectory.appendingPathComponent("silent-\(UUID().uuidString.prefix(6)).log").path)
        defer { silent.stop() }
        let port = try #require(silent.announcedPort())
        let bed = try Self.bed(
            freeBusy: ["calendars": ["http://127.0.0.1:\(port)/caldav/{user}/"], "allow-from": ["*"]], timeouts: ["free-busy": "1s"])
        defer { _ = bed.stop() }
        let body = ITIP.calendar(
            method: "REQUEST", component: "VFREEBUSY", organizer: "mailto:alice@alpha.test", attendees: ["mailto:dave@gamma.test"])
        let headers = try RemoteSigner(domain: "alpha.test").sign(
            [
                ("Originator", "mailto:alice@alpha.test"), ("Recipient", "mailto:dave@gamma.test"),
                ("Content-Type", ITIP.contentType("REQUEST", "VFREEBUSY"))
            ], body: body)
        // The exchange gives up after 8 s: a gateway waiting for the server would fail it.
        let response = try RawHTTPConnection.exchange(port: bed.port, path: "/.well-known/ischedule", headers: headers, body: body, timeout: 8)
        let item = try #require(scheduleResponse(response)?.items.first, "\(response.text)")
        #expect(item.requestStatus.code == "5.1" && item.responseDescription == "the calendar server did not answer", "\(response.text)")
    }

    /// A gateway whose gamma.test is e-mail-only (`delivery: imip`, an SMTP server that is never
    /// used) with these `free-busy:` settings (indented under it).
    @Test(
        "a plain local part fills one path segment or one query value of the calendar URL; any other is nobody here: nothing walks to another collection or adds a parameter"
    )
    func urlPatternsCannotBeWalked() throws {
        let server = try TestCalendarServer()
        defer { server.stop() }
        let bed = try Self.bed(
            freeBusy: [
                "calendars": [.scalar(server.url("/dav/{user}/calendar/")), .scalar(server.url("/fb?u={user}&all=no"))],
                "allow-from": ["alpha.test"]
            ])
        defer { _ = bed.stop() }
        for user in ["bob&u=alice", "a%2F..", "x/y", "bob%2F", "..", ".", "carol.x"] {
            let recipient = "mailto:\(user)@gamma.test"
            let body = ITIP.calendar(method: "REQUEST", component: "VFREEBUSY", organizer: "mailto:alice@alpha.test", attendees: [recipient])
            let headers = try RemoteSigner(domain: "alpha.test").sign(
                [
                    ("Originator", "mailto:alice@alpha.test"), ("Recipient", recipient),
                    ("Content-Type", ITIP.contentType("REQUEST", "VFREEBUSY"))
                ], body: body)
            _ = try bed.post(headers, body: body)
        }
        // A server that unquotes its path (Radicale) reads bob%2F as bob/: only plain local parts are asked for.
        #expect(server.reports.map(\.path).sorted() == ["/dav/carol.x/calendar/", "/fb?u=carol.x&all=no"], "\(server.reports.map(\.path))")
    }

    @Test(
        "one partner asking for 20 users does not keep another's single question waiting; the CalDAV server gets at most free-busy.connections REPORTs at once"
    )
    func fairShareOfTheCalDAVServer() throws {
        let server = try TestCalendarServer()
        defer { server.stop() }
        let bed = try Self.bed(
            freeBusy: ["calendars": [.scalar(server.url("/slow/{user}/"))], "allow-from": ["alpha.test", "other.test"], "connections": 4])
        defer { _ = bed.stop() }
        @Sendable func ask(_ users: [String], from domain: String) throws -> (RawHTTPResponse, Double) {
            let originator = "mailto:alice@\(domain)"
            let recipients = users.map { "mailto:\($0)@gamma.test" }
            let body = ITIP.calendar(method: "REQUEST", component: "VFREEBUSY", organizer: originator, attendees: recipients)
            let headers = try RemoteSigner(domain: domain).sign(
                [
                    ("Originator", originator), ("Recipient", recipients.joined(separator: ",")),
                    ("Content-Type", ITIP.contentType("REQUEST", "VFREEBUSY"))
                ], body: body)
            let started = Date()
            let response = try RawHTTPConnection.exchange(port: bed.port, path: "/.well-known/ischedule", headers: headers, body: body, timeout: 60)
            return (response, Date().timeIntervalSince(started))
        }
        let many = (0..<20).map { "u\($0)" }
        let crowd = Mutex<[RawHTTPResponse]>([])
        Thread.detachNewThread { if let answer = try? ask(many, from: "alpha.test") { crowd.withLock { $0.append(answer.0) } } }
        usleep(300_000)  // alpha.test's REPORTs are under way
        let (single, took) = try ask(["solo"], from: "other.test")
        #expect(scheduleResponse(single)?.items.first?.requestStatus.code == "2.0", "\(single.text)")
        #expect(took < 2.5, "other.test waited \(took) s behind alpha.test's 20 users")
        #expect(waitUntil(seconds: 30) { !crowd.withLock { $0.isEmpty } })
        let items = crowd.withLock { $0.first.flatMap { scheduleResponse($0)?.items } } ?? []
        #expect(items.count == 20 && items.allSatisfy { $0.requestStatus.code == "2.0" }, "\(items.map(\.requestStatus.code))")
        #expect(server.reports.count == 21 && server.reports.map(\.concurrent).max() ?? 99 <= 4, "\(server.reports.map(\.concurrent))")
    }

    static func bed(freeBusy settings: GatewayYAML.Value, timeouts: [String: String] = [:]) throws -> InboundBed {
        try InboundBed(
            timeouts: timeouts,
            overrides: [
                "imip": ["smtp-url": "smtp://127.0.0.1:9", "from": "calendar-gateway@gamma.test", "require-tls": false],
                "domains": ["gamma.test": ["delivery": "imip", "free-busy": settings]]
            ])
    }
}
