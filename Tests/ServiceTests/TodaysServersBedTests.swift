import Foundation
import TestSupport
import TestTraits
import Testing

/// The test beds of the servers people choose today, on their own (no gateway yet): what
/// Xandikos 0.4.10 and Radicale 3.9.0 really send and accept, checked against the real programs
/// (PyPI, the tests' virtual environment) and aiosmtpd as the mail server.
@Suite(.serialized, .waitsOnProcesses) struct TodaysServersBedTests {
    static func smtp() throws -> TestSMTPServer {
        let tls = try TestCertificates().issue("localhost", subjectAltNames: ["DNS:localhost"])
        return try TestSMTPServer(mode: .plain, cert: tls.cert, key: tls.key)
    }

    static func event(uid: String, organizer: String, attendees: [String]) -> String {
        String(decoding: ITIP.calendar(method: "REQUEST", organizer: organizer, attendees: attendees, uid: uid), as: UTF8.self)
            .replacingOccurrences(of: "METHOD:REQUEST\r\n", with: "")
            .replacingOccurrences(
                of: "DTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z", with: "DTSTART:20301201T100000Z\r\nDTEND:20301201T110000Z")
    }

    /// Xandikos sends one `text/calendar; method=REQUEST` part marked `Auto-Submitted:
    /// auto-generated` from its `--smtp-from`; over LMTP it applies a REPLY (PARTSTAT in the
    /// organizer's event) and silently discards one marked auto-generated.
    @Test func xandikosSendsIMIPAndAppliesAReplyOverLMTP() throws {
        let smtp = try Self.smtp()
        defer { smtp.stop() }
        let xandikos = try TestXandikos(user: "alice", address: "mailto:alice@x.test", smtpPort: smtp.port, from: "caldav@x.test")
        defer { xandikos.stop() }
        let uid = UUID().uuidString
        let status = try xandikos.put("meeting.ics", Self.event(uid: uid, organizer: "mailto:alice@x.test", attendees: ["mailto:bob@remote.test"]))
        #expect(status == 201, "\(xandikos.log)")
        #expect(waitUntil(seconds: 15) { !smtp.messages.isEmpty }, "\(xandikos.log)")
        let sent = try #require(smtp.messages.first)
        #expect(sent["from"] as? String == "caldav@x.test" && sent["to"] as? [String] == ["bob@remote.test"], "\(sent)")
        let data = sent["data"] as? String ?? ""
        #expect(data.contains("Auto-Submitted: auto-generated") && data.contains("method=\"REQUEST\""), "\(data)")

        func reply(_ partstat: String, autoSubmitted: String?) -> String {
            let calendar = String(
                decoding: ITIP.calendar(
                    method: "REPLY", organizer: "mailto:alice@x.test", attendees: [], uid: uid,
                    extra: ["ATTENDEE;PARTSTAT=\(partstat):mailto:bob@remote.test"]),
                as: UTF8.self)
            let headers =
                ["From: bob@remote.test", "To: alice@x.test", "Subject: Accepted", "Message-ID: <\(UUID().uuidString)@remote.test>"]
                + (autoSubmitted.map { ["Auto-Submitted: \($0)"] } ?? []) + [
                    "MIME-Version: 1.0", "Content-Type: text/calendar; charset=utf-8; method=REPLY"
                ]
            return headers.joined(separator: "\r\n") + "\r\n\r\n" + calendar
        }
        // Marked auto-generated (as Xandikos marks its own): answered 250, and dropped.
        let dropped = try xandikos.deliverByLMTP(reply("DECLINED", autoSubmitted: "auto-generated"), from: "bob@remote.test", to: "anyone@x.test")
        #expect(dropped.hasPrefix("250"), "\(dropped)")
        #expect(try xandikos.get("meeting.ics")?.contains("PARTSTAT=DECLINED") == false, "discarded, not applied")
        // Unmarked: applied to the organizer's event, whatever the LMTP recipient.
        let applied = try xandikos.deliverByLMTP(reply("ACCEPTED", autoSubmitted: nil), from: "bob@remote.test", to: "anyone@x.test")
        #expect(applied.hasPrefix("250"), "\(applied)")
        let bobs = { xandikos.partstat(of: "mailto:bob@remote.test", in: "meeting.ics") }
        #expect(waitUntil(seconds: 10) { bobs() == "ACCEPTED" }, "\(String(describing: bobs())) \(xandikos.log)")
    }

    /// Radicale's `email` hook mails each attendee the stored event as an `application/octet-stream`
    /// `event.ics` attachment without METHOD, from its `from_email`; a user granted `f` gets the
    /// owner's busy time and nothing else.
    @Test func radicaleMailsAnAttachmentAndAnswersFreeBusy() throws {
        let smtp = try Self.smtp()
        defer { smtp.stop() }
        let radicale = try TestRadicale(
            users: ["alice": "alice-pw", "bob": "bob-pw"], freeBusyGrants: [("bob", "alice")], smtpPort: smtp.port, from: "caldav@r.test")
        defer { radicale.stop() }
        let uid = UUID().uuidString
        let status = try radicale.put(
            "meeting.ics", Self.event(uid: uid, organizer: "mailto:alice@r.test", attendees: ["mailto:carol@remote.test"]), as: "alice")
        #expect(status == 201, "\(radicale.log)")
        #expect(waitUntil(seconds: 15) { smtp.messages.contains { ($0["to"] as? [String]) == ["carol@remote.test"] } }, "\(radicale.log)")
        let sent = try #require(smtp.messages.first { ($0["to"] as? [String]) == ["carol@remote.test"] })
        let data = sent["data"] as? String ?? ""
        #expect(sent["from"] as? String == "caldav@r.test", "\(sent)")
        #expect(data.contains("Content-Type: application/octet-stream") && data.contains("filename= event.ics"), "\(data)")

        let report = try calDAVRequest(
            "REPORT", radicale.calendarURL("alice"), user: "bob", password: "bob-pw", headers: ["Depth": "1", "Content-Type": "application/xml"],
            body: freeBusyQuery(start: "20301201T000000Z", end: "20301202T000000Z"))
        #expect(report.status == 200 && report.body.contains("FREEBUSY;FBTYPE=BUSY:20301201T100000Z/20301201T110000Z"), "\(report)")
        let event = try calDAVRequest("GET", radicale.calendarURL("alice") + "meeting.ics", user: "bob", password: "bob-pw")
        #expect(event.status == 403, "free/busy only: \(event.status)")
    }
}
