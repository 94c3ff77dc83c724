import Foundation
import ISchedule
import TestSupport
import TestTraits
import Testing

/// Round trips between a Xandikos 0.4.10 domain and Cyrus 3.6, DAViCal 1.1 and Radicale 3.9
/// domains, each domain with its own gateway and (for the servers that schedule by e-mail) its
/// own Postfix with the shipped filter lines: every step read back in the receiving server's
/// own store (CalDAV, DAViCal's database, the mailbox), never from an HTTP status.
@Suite("Xandikos round trips with Cyrus, DAViCal and Radicale, through two gateways", .serialized, .waitsOnProcesses)
struct TodaysServersRoundTripTests {
    /// The object of `collection` holding `uid`, as the server stores it.
    static func object(_ uid: String, in collection: String, user: String? = nil, password: String = "") -> (url: String, body: String)? {
        ((try? calDAVObjects(in: collection, user: user, password: password)) ?? []).first { $0.body.contains("UID:\(uid)") }
    }

    /// `event` with `attendee`'s PARTSTAT set to `partstat`, as the attendee's client writes it.
    static func answering(_ event: String, as attendee: String, _ partstat: String) -> String {
        event.replacingOccurrences(of: "\r\n ", with: "").split(separator: "\r\n", omittingEmptySubsequences: false).map { line in
            guard line.hasPrefix("ATTENDEE"), line.lowercased().hasSuffix(":" + attendee.lowercased()) else { return String(line) }
            let parameters = line.split(separator: ":", maxSplits: 1)[0].split(separator: ";").filter { !$0.hasPrefix("PARTSTAT=") }
            return parameters.joined(separator: ";") + ";PARTSTAT=\(partstat):" + attendee
        }.joined(separator: "\r\n")
    }

    /// The FREEBUSY periods of the calendar data of a schedule-response item.
    static func periods(_ item: ScheduleResponse.Item?) -> [String] {
        (item?.calendarData ?? "").replacingOccurrences(of: "\r\n ", with: "").split(separator: "\r\n").filter { $0.hasPrefix("FREEBUSY") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last?.split(separator: ",").map(String.init) ?? [] }
    }

    /// xandikos.test (Xandikos, user alice, behind Postfix and its gateway, `delivery: imip` to
    /// Xandikos's LMTP listener) and cyrus.test (Cyrus, user bob, its iMIP through its own
    /// Postfix and filter, its gateway forwarding to Cyrus's `/ischedule`), found through NSD.
    final class XandikosAndCyrus: @unchecked Sendable {
        let certificates: TestCertificates
        let sink: TestSMTPServer
        let x, c: MailSideDomain
        let xandikos: TestXandikos
        let cyrus: TestCyrus
        let dns: TestDNSServer
        var bobsCalendar: String { "\(cyrus.baseURL)/dav/calendars/user/bob/Default/" }

        init() throws {
            certificates = try TestCertificates()
            let tls = try certificates.issue("isched", subjectAltNames: ["DNS:isched.xandikos.test", "DNS:isched.cyrus.test"])
            sink = try TestSMTPServer(mode: .plain, cert: tls.cert, key: tls.key)
            x = try MailSideDomain("xandikos.test", relayPort: sink.port)
            c = try MailSideDomain("cyrus.test", relayPort: sink.port)
            xandikos = try TestXandikos(
                user: "alice", address: "mailto:alice@xandikos.test", smtpPort: x.postfix.submissionPort, from: x.systemSender)
            try x.postfix.route(["xandikos.test": "lmtp:inet:127.0.0.1:\(xandikos.lmtpPort)"])
            cyrus = try TestCyrus(domain: "cyrus.test", users: ["bob"], smtpPort: c.postfix.submissionPort)
            dns = try TestDNSServer(zones: ["xandikos.test": x.zone(), "cyrus.test": c.zone()])
            let freeBusy: GatewayYAML.Value = [
                "calendars": [.scalar("http://127.0.0.1:\(xandikos.port)/{user}/calendars/calendar/")], "allow-from": ["cyrus.test"]
            ]
            try x.start(
                upstream: nil, certificate: tls, dns: dns.server, caFile: certificates.caFile,
                overrides: ["domains": ["xandikos.test": ["free-busy": freeBusy]]])
            try c.start(upstream: cyrus.baseURL + "/ischedule", certificate: tls, dns: dns.server, caFile: certificates.caFile)
        }

        /// `uid` in bob's calendar, as Cyrus stores it.
        func bobs(_ uid: String) -> (url: String, body: String)? {
            TodaysServersRoundTripTests.object(uid, in: bobsCalendar, user: "bob", password: TestCyrus.password)
        }

        func bob(_ method: String, _ url: String, _ body: String = "") throws -> Int {
            try calDAVRequest(method, url, user: "bob", password: TestCyrus.password, headers: ["Content-Type": "text/calendar"], body: body).status
        }

        var logs: String { "\(x.logs)\n\(c.logs)\nxandikos:\n\(xandikos.log.suffix(1_000))" }

        func stop() {
            x.stop()
            c.stop()
            xandikos.stop()
            cyrus.stop()
            dns.stop()
            sink.stop()
        }
    }

    @Test(
        "Xandikos ⇄ Cyrus: each one's invitation lands in the other's calendar, each acceptance sets PARTSTAT in the organizer's event, free/busy crosses, a CANCEL reaches the attendee's server"
    )
    func xandikosAndCyrus() throws {
        let world = try XandikosAndCyrus()
        defer { world.stop() }
        try xandikosOrganizes(world)
        try cyrusOrganizes(world)
        #expect(world.sink.messages.isEmpty, "nothing left as e-mail: \(world.sink.messages)")
    }

    /// alice (Xandikos) invites bob (Cyrus), bob accepts, bob's side asks for alice's free/busy,
    /// alice deletes the event.
    func xandikosOrganizes(_ world: XandikosAndCyrus) throws {
        let uid = UUID().uuidString
        let event = TodaysServersBedTests.event(uid: uid, organizer: "mailto:alice@xandikos.test", attendees: ["mailto:bob@cyrus.test"])
        #expect(try world.xandikos.put("review.ics", event) == 201, "\(world.xandikos.log)")
        let copy = try #require(waitFor(seconds: 60) { world.bobs(uid) }, "\(world.logs)")
        #expect(try world.cyrus.inbox(of: "bob").contains { $0.contains("UID:\(uid)") })

        // Cyrus mails bob's REPLY → filter → iSchedule → Xandikos's gateway → Postfix → LMTP.
        #expect(try world.bob("PUT", copy.url, Self.answering(copy.body, as: "mailto:bob@cyrus.test", "ACCEPTED")) < 300)
        #expect(
            waitUntil(seconds: 60) { world.xandikos.partstat(of: "mailto:bob@cyrus.test", in: "review.ics") == "ACCEPTED" }, "\(world.logs)")

        // Free/busy: Cyrus's side asks its gateway; Xandikos's gateway answers from Xandikos.
        let busy = TodaysServersFreeBusyTests.busy("mailto:alice@xandikos.test", start: "20261204T080000Z", end: "20261204T093000Z")
        #expect(try world.xandikos.put("busy.ics", busy) == 201)
        let response = try Self.askFreeBusy(intakePort: world.c.intakePort, of: "mailto:alice@xandikos.test", for: "mailto:bob@cyrus.test")
        let item = scheduleResponse(response)?.items.first
        #expect(item?.requestStatus.code == "2.0" && Self.periods(item) == ["20261204T080000Z/20261204T093000Z"], "\(response.text)")

        // alice deletes it: the CANCEL reaches bob's scheduling Inbox. (Cyrus 3.6 files an
        // iSchedule CANCEL there and leaves the calendar copy as it is: its own behaviour.)
        #expect(try calDAVRequest("DELETE", world.xandikos.calendarURL + "review.ics").status < 300)
        #expect(
            waitUntil(seconds: 60) {
                ((try? world.cyrus.inbox(of: "bob")) ?? []).contains { $0.contains("UID:\(uid)") && $0.contains("METHOD:CANCEL") }
            }, "\(world.logs)")
    }

    /// bob (Cyrus) invites alice (Xandikos), alice accepts, bob deletes the event.
    func cyrusOrganizes(_ world: XandikosAndCyrus) throws {
        let uid = UUID().uuidString
        let event = TodaysServersBedTests.event(
            uid: uid, organizer: "mailto:bob@cyrus.test", attendees: ["mailto:bob@cyrus.test", "mailto:alice@xandikos.test"])
        #expect(try world.cyrus.put(user: "bob", name: "\(uid).ics", calendar: event) == 201)
        let collection = world.xandikos.calendarURL
        let copy = try #require(waitFor(seconds: 60) { Self.object(uid, in: collection) }, "\(world.logs)")

        // Xandikos mails alice's REPLY → filter → iSchedule → Cyrus's gateway → Cyrus applies it.
        #expect(
            try calDAVRequest(
                "PUT", copy.url, headers: ["Content-Type": "text/calendar"],
                body: Self.answering(copy.body, as: "mailto:alice@xandikos.test", "ACCEPTED")
            ).status < 300)
        #expect(
            waitUntil(seconds: 60) {
                world.bobs(uid).map { Self.partstat(of: "mailto:alice@xandikos.test", in: $0.body) == "ACCEPTED" } ?? false
            }, "\(world.bobs(uid)?.body ?? "")\n\(world.logs)")

        // bob deletes it: Cyrus mails the CANCEL, Xandikos cancels alice's copy.
        let bobsCopy = try #require(world.bobs(uid))
        #expect(try world.bob("DELETE", bobsCopy.url) < 300)
        #expect(
            waitUntil(seconds: 60) { Self.object(uid, in: collection)?.body.contains("STATUS:CANCELLED") ?? false },
            "\(Self.object(uid, in: collection)?.body ?? "")\n\(world.logs)")
    }

    /// A VFREEBUSY REQUEST for `attendee` submitted to a gateway's intake as its local server would.
    static func askFreeBusy(intakePort: UInt16, of attendee: String, for organizer: String) throws -> RawHTTPResponse {
        try RawHTTPConnection.exchange(
            port: intakePort, path: "/outbound",
            headers: [("Originator", organizer), ("Recipient", attendee), ("Content-Type", ITIP.contentType("REQUEST", "VFREEBUSY"))],
            body: ITIP.calendar(method: "REQUEST", component: "VFREEBUSY", organizer: organizer, attendees: [attendee]), timeout: 60)
    }

    /// The PARTSTAT of `attendee` in a calendar object's text.
    static func partstat(of attendee: String, in text: String) -> String? {
        let line = text.replacingOccurrences(of: "\r\n ", with: "").split(separator: "\r\n").first {
            $0.hasPrefix("ATTENDEE") && $0.lowercased().hasSuffix(":" + attendee.lowercased())
        }
        return line?.split(separator: ";").first { $0.hasPrefix("PARTSTAT=") }.map { String($0.dropFirst(9).prefix { $0 != ":" }) }
    }
}

/// Polls `produce` until it gives a value or `seconds` pass (every 250 ms).
func waitFor<T>(seconds: Double, _ produce: () -> T?) -> T? {
    var found: T?
    _ = waitUntil(seconds: seconds) {
        found = produce()
        return found != nil
    }
    return found
}
