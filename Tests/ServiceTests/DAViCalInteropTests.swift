import Foundation
import TestSupport
import TestTraits
import Testing

/// The gateway beside a real DAViCal 1.1 (Debian's package, draft-01 iSchedule) and a real
/// Cyrus IMAP 3.6: each path verified in the receiving server's own store (DAViCal's database,
/// Cyrus's Inbox over CalDAV, the recording upstream), not by an HTTP 200.
@Suite("DAViCal, Cyrus and the gateway", .serialized, .waitsOnProcesses)
struct DAViCalInteropTests {
    @Test("gateway → DAViCal: learned as draft-01 from its capabilities, the invitation passes DAViCal's verifier and lands in the Inbox")
    func invitationReachesDAViCal() throws {
        let bed = try DAViCalBed(configuresDialect: false)
        defer { bed.stop() }
        #expect(try bed.davical.inbox(of: "dave").isEmpty)
        let body = ITIP.calendar(method: "REQUEST", organizer: "mailto:bob@beta.test", attendees: ["mailto:dave@gamma.test"])
        let response = try RawHTTPConnection.exchange(
            port: bed.intakePort, path: "/outbound",
            headers: [
                ("Originator", "mailto:bob@beta.test"), ("Recipient", "mailto:dave@gamma.test"),
                ("Content-Type", ITIP.contentType("REQUEST"))
            ], body: body, timeout: 60)
        #expect(scheduleResponse(response)?.items.map(\.requestStatus.code) == ["2.0"], "\(response.text)\n\(bed.davical.errorLog.suffix(3_000))")
        let stored = try bed.davical.inbox(of: "dave")
        let expected = try uid(of: body)
        #expect(stored.count == 1 && stored.first?.contains(expected) == true, "\(stored)")
    }

    @Test("DAViCal → gateway: a DAViCal user's invitation is verified (draft-01, no iSchedule-Message-ID) and reaches the upstream")
    func davicalInvitationReachesUpstream() throws {
        let bed = try DAViCalBed()
        defer { bed.stop() }
        let event = Self.event(organizer: "dave@gamma.test", attendee: "zed@beta.test")
        #expect(try bed.davical.put(user: "dave", name: "meeting.ics", calendar: event.text) == 201)
        #expect(
            waitUntil(seconds: 20) { bed.upstream.records.contains { $0.body.contains(event.uid) } },
            "\(bed.gateway.log.suffix(3_000))\n\(bed.davical.errorLog.suffix(3_000))")
        let record = try #require(bed.upstream.records.first { $0.body.contains(event.uid) })
        #expect(record.values("Originator") == ["mailto:dave@gamma.test"])
        #expect(record.values("Recipient") == ["mailto:zed@beta.test"])
    }

    @Test("DAViCal → gateway → Cyrus: a DAViCal invitation lands in the Cyrus user's Inbox, a path neither server has alone")
    func davicalInvitationReachesCyrus() throws {
        let bed = try DAViCalBed(withCyrus: true)
        defer { bed.stop() }
        let cyrus = try #require(bed.cyrus)
        let event = Self.event(organizer: "dave@gamma.test", attendee: "alice@alpha.test")
        #expect(try bed.davical.put(user: "dave", name: "to-cyrus.ics", calendar: event.text) == 201)
        #expect(
            waitUntil(seconds: 20) { ((try? cyrus.inbox(of: "alice")) ?? []).contains { $0.contains(event.uid) } },
            "\(bed.gateway.log.suffix(3_000))\n\(bed.davical.errorLog.suffix(3_000))")
        #expect(try cyrus.inbox(of: "alice").first?.contains("ORGANIZER:mailto:dave@gamma.test") == true)
    }

    @Test("a recipient domain without iSchedule gets the invitation by iMIP at the SMTP sink, beside a DAViCal attendee served by iSchedule")
    func mailOnlyDomainGetsIMIP() throws {
        let bed = try DAViCalBed(configuresDialect: false)
        defer { bed.stop() }
        let body = ITIP.calendar(
            method: "REQUEST", organizer: "mailto:bob@beta.test",
            attendees: ["mailto:dave@gamma.test", "mailto:max@mailonly.test"])
        let response = try RawHTTPConnection.exchange(
            port: bed.intakePort, path: "/outbound",
            headers: [
                ("Originator", "mailto:bob@beta.test"), ("Recipient", "mailto:dave@gamma.test,mailto:max@mailonly.test"),
                ("Content-Type", ITIP.contentType("REQUEST"))
            ], body: body, timeout: 60)
        let codes = scheduleResponse(response)?.items.map(\.requestStatus.code)
        #expect(codes == ["2.0", "1.1"], "\(response.text)")
        let expected = try uid(of: body)
        #expect(
            waitUntil(seconds: 20) { bed.sink.messages.contains { ($0["to"] as? [String]) == ["max@mailonly.test"] } },
            "\(bed.gateway.log.suffix(3_000))")
        let mail = try #require(bed.sink.messages.first { ($0["to"] as? [String]) == ["max@mailonly.test"] })
        let parts = try #require((mail["parsed"] as? [String: Any])?["parts"] as? [[String: Any]])
        let calendar = try #require(parts.first { $0["type"] as? String == "text/calendar" })
        #expect(Data(base64Encoded: calendar["payload"] as? String ?? "").map { Array($0) } == body)
        #expect(try bed.davical.inbox(of: "dave").contains { $0.contains(expected) })
    }

    @Test("free/busy from the gateway's intake to a Cyrus user: Cyrus answers through the gateway with its VFREEBUSY reply")
    func freeBusyFromCyrus() throws {
        let bed = try DAViCalBed(withCyrus: true)
        defer { bed.stop() }
        let cyrus = try #require(bed.cyrus)
        // Something to be busy with in alice's calendar.
        let busy = Self.event(organizer: "alice@alpha.test", attendee: "alice@alpha.test")
        #expect(try cyrus.put(user: "alice", name: "busy.ics", calendar: busy.text) == 201)
        let body = ITIP.calendar(
            method: "REQUEST", component: "VFREEBUSY", organizer: "mailto:bob@beta.test",
            attendees: ["mailto:alice@alpha.test"])
        let response = try RawHTTPConnection.exchange(
            port: bed.intakePort, path: "/outbound",
            headers: [
                ("Originator", "mailto:bob@beta.test"), ("Recipient", "mailto:alice@alpha.test"),
                ("Content-Type", ITIP.contentType("REQUEST", "VFREEBUSY"))
            ], body: body, timeout: 30)
        let item = try #require(scheduleResponse(response)?.items.first, "\(response.text)")
        #expect(item.requestStatus.code == "2.0", "\(response.text)")
        let reply = try #require(item.calendarData, "\(response.text)")
        #expect(reply.contains("METHOD:REPLY") && reply.contains("BEGIN:VFREEBUSY"), "\(reply)")
        #expect(reply.contains("ATTENDEE") && reply.lowercased().contains("mailto:alice@alpha.test"), "\(reply)")
    }

    @Test("signed by DAViCal's own signer: changed after signing is refused and nothing reaches Cyrus; intact it lands once, a replay is refused")
    func davicalSignatureIsChecked() throws {
        let bed = try DAViCalBed(withCyrus: true)
        defer { bed.stop() }
        let cyrus = try #require(bed.cyrus)
        let body = ITIP.calendar(method: "REQUEST", organizer: "mailto:dave@gamma.test", attendees: ["mailto:alice@alpha.test"])
        // DAViCal's header set and forms: no iSchedule-Message-ID, Recipient without mailto:.
        let contentType = "text/calendar; component=VEVENT; method=REQUEST"
        let signature = try bed.davical.signature(
            originator: "mailto:dave@gamma.test", recipient: "alice@alpha.test",
            contentType: contentType, body: body)
        let headers = [
            ("iSchedule-Version", "1.0"), ("Originator", "mailto:dave@gamma.test"), ("Recipient", "alice@alpha.test"),
            ("Content-Type", contentType), ("DKIM-Signature", signature)
        ]
        let tampered = Array(String(decoding: body, as: UTF8.self).replacingOccurrences(of: "SUMMARY:", with: "SUMMARY:X").utf8)
        let refused = try RawHTTPConnection.exchange(port: bed.intakePort, path: "/.well-known/ischedule", headers: headers, body: tampered)
        #expect(refused.status == 403 && refused.text.contains("verification-failed"), "\(refused.text)")
        #expect(try cyrus.inbox(of: "alice").isEmpty)

        let accepted = try RawHTTPConnection.exchange(port: bed.intakePort, path: "/.well-known/ischedule", headers: headers, body: body)
        #expect(scheduleResponse(accepted)?.items.map(\.requestStatus.code) == ["2.0"], "\(accepted.text)")
        #expect(try cyrus.inbox(of: "alice").count == 1)
        // The replay cache keys a request without iSchedule-Message-ID on its signature (b=).
        let replayed = try RawHTTPConnection.exchange(port: bed.intakePort, path: "/.well-known/ischedule", headers: headers, body: body)
        #expect(replayed.status == 403 && replayed.text.contains("replayed"), "\(replayed.text)")
        #expect(try cyrus.inbox(of: "alice").count == 1)
    }

    @Test("without dialect: draft-01 for its domain, DAViCal's draft-01 signature is refused: old dialects only for configured peers")
    func draft01OnlyForConfiguredPeers() throws {
        let bed = try DAViCalBed(configuresDialect: false)
        defer { bed.stop() }
        let body = ITIP.calendar(method: "REQUEST", organizer: "mailto:dave@gamma.test", attendees: ["mailto:zed@beta.test"])
        let contentType = "text/calendar; component=VEVENT; method=REQUEST"
        let signature = try bed.davical.signature(
            originator: "mailto:dave@gamma.test", recipient: "zed@beta.test",
            contentType: contentType, body: body)
        let response = try RawHTTPConnection.exchange(
            port: bed.intakePort, path: "/.well-known/ischedule",
            headers: [
                ("iSchedule-Version", "1.0"), ("Originator", "mailto:dave@gamma.test"), ("Recipient", "zed@beta.test"),
                ("Content-Type", contentType), ("DKIM-Signature", signature)
            ], body: body)
        #expect(response.status == 403 && response.text.contains("simple-http"), "\(response.text)")
        #expect(bed.upstream.records.isEmpty)
    }

    /// A calendar object as a CalDAV client stores it (no METHOD), with a fresh UID.
    static func event(organizer: String, attendee: String) -> (text: String, uid: String) {
        let uid = "davical-\(UUID().uuidString.prefix(8))@gamma.test"
        let text = String(
            decoding: ITIP.calendar(method: "REQUEST", organizer: "mailto:\(organizer)", attendees: ["mailto:\(attendee)"], uid: uid),
            as: UTF8.self
        ).replacingOccurrences(of: "METHOD:REQUEST\r\n", with: "")
        return (text, uid)
    }

    private func uid(of body: [UInt8]) throws -> String {
        try #require(String(decoding: body, as: UTF8.self).split(separator: "\r\n").first { $0.hasPrefix("UID:") }.map(String.init))
    }
}
