import Foundation
import ISchedule
import TestSupport
import TestTraits
import Testing

/// A Radicale 3.9.0 domain and a Xandikos 0.4.10 domain, each with its Postfix, filter and
/// gateway. Radicale mails the stored event without METHOD (its `from_email` is in
/// `infer-requests-from`, each invitation confirmed in the organizer's own calendar through
/// `organizer-calendars`) and processes no incoming iMIP: a partner's REPLY reaches its user as
/// the gateway's verified e-mail, to be applied by the user.
@Suite("Xandikos round trips with Radicale, through two gateways", .serialized, .waitsOnProcesses)
struct XandikosRadicaleRoundTripTests {
    @Test(
        "Radicale ⇄ Xandikos: carol's invitation becomes an event in alice's calendar, alice's acceptance reaches carol's mailbox verified, carol's free/busy answers from Radicale"
    )
    func radicaleAndXandikos() throws {
        let certificates = try TestCertificates()
        let tls = try certificates.issue("isched", subjectAltNames: ["DNS:isched.xandikos.test", "DNS:isched.radicale.test"])
        let sink = try TestSMTPServer(mode: .plain, cert: tls.cert, key: tls.key)
        defer { sink.stop() }
        let x = try MailSideDomain("xandikos.test", relayPort: sink.port)
        defer { x.stop() }
        let r = try MailSideDomain("radicale.test", relayPort: sink.port)
        defer { r.stop() }
        let xandikos = try TestXandikos(
            user: "alice", address: "mailto:alice@xandikos.test", smtpPort: x.postfix.submissionPort, from: x.systemSender)
        defer { xandikos.stop() }
        try x.postfix.route(["xandikos.test": "lmtp:inet:127.0.0.1:\(xandikos.lmtpPort)"])
        let radicale = try TestRadicale(
            users: ["carol": "carol-pw", "ischedule-freebusy": "fb-pw", "ischedule-check": "check-pw"],
            freeBusyGrants: [("ischedule-freebusy", "[^/]+")], readGrants: [("ischedule-check", "[^/]+")],
            smtpPort: r.postfix.submissionPort, from: r.systemSender)
        defer { radicale.stop() }
        let dns = try TestDNSServer(zones: ["xandikos.test": x.zone(), "radicale.test": r.zone()])
        defer { dns.stop() }
        try x.start(upstream: nil, certificate: tls, dns: dns.server, caFile: certificates.caFile)
        let freeBusy: GatewayYAML.Value = [
            "calendars": [.scalar("http://127.0.0.1:\(radicale.port)/{user}/calendar/")], "username": "ischedule-freebusy", "password": "fb-pw",
            "allow-from": ["xandikos.test"]
        ]
        try r.start(
            upstream: nil, certificate: tls, dns: dns.server, caFile: certificates.caFile,
            overrides: [
                "domains": ["radicale.test": ["free-busy": freeBusy]],
                "imip-intake": [
                    "infer-requests-from": [.scalar(r.systemSender)],
                    "organizer-calendars": [
                        "calendars": [.scalar("http://127.0.0.1:\(radicale.port)/{user}/calendar/")], "username": "ischedule-check",
                        "password": "check-pw"
                    ]
                ]
            ])
        let logs = { "\(x.logs)\n\(r.logs)\nxandikos:\n\(xandikos.log.suffix(800))\nradicale:\n\(radicale.log.suffix(800))" }

        // carol invites alice: Radicale's e-mail → filter (read as a REQUEST) → iSchedule → Xandikos.
        let uid = UUID().uuidString
        let event = TodaysServersBedTests.event(uid: uid, organizer: "mailto:carol@radicale.test", attendees: ["mailto:alice@xandikos.test"])
        #expect(try radicale.put("offsite.ics", event, as: "carol") == 201, "\(radicale.log)")
        let copy = try #require(waitFor(seconds: 60) { TodaysServersRoundTripTests.object(uid, in: xandikos.calendarURL) }, "\(logs())")
        #expect(TodaysServersRoundTripTests.partstat(of: "mailto:alice@xandikos.test", in: copy.body) == "NEEDS-ACTION")

        // alice accepts: Xandikos's REPLY → filter → iSchedule → Radicale's gateway → carol's mailbox.
        let accepted = TodaysServersRoundTripTests.answering(copy.body, as: "mailto:alice@xandikos.test", "ACCEPTED")
        #expect(try calDAVRequest("PUT", copy.url, headers: ["Content-Type": "text/calendar"], body: accepted).status < 300)
        let mail = try #require(
            waitFor(seconds: 60) { sink.messages.first { ($0["to"] as? [String]) == ["carol@radicale.test"] } }, "\(sink.messages)\n\(logs())")
        let data = mail["data"] as? String ?? ""
        #expect(data.contains("dkim=pass (iSchedule request signature) header.d=xandikos.test"), "\(data)")
        let parts = (mail["parsed"] as? [String: Any])?["parts"] as? [[String: Any]] ?? []
        let reply = parts.first { $0["type"] as? String == "text/calendar" }.flatMap { Data(base64Encoded: $0["payload"] as? String ?? "") }
        let text = reply.map { String(decoding: $0, as: UTF8.self) } ?? ""
        #expect(
            text.contains("METHOD:REPLY") && text.contains("UID:\(uid)")
                && TodaysServersRoundTripTests.partstat(of: "mailto:alice@xandikos.test", in: text) == "ACCEPTED", "\(data)")

        // Free/busy: Xandikos's side asks its gateway for carol's; Radicale's gateway asks Radicale.
        let busy = TodaysServersFreeBusyTests.busy("mailto:carol@radicale.test", start: "20261203T140000Z", end: "20261203T150000Z")
        #expect(try radicale.put("busy.ics", busy, as: "carol") == 201)
        let response = try TodaysServersRoundTripTests.askFreeBusy(
            intakePort: x.intakePort, of: "mailto:carol@radicale.test", for: "mailto:alice@xandikos.test")
        let item = scheduleResponse(response)?.items.first
        #expect(
            item?.requestStatus.code == "2.0" && TodaysServersRoundTripTests.periods(item) == ["20261203T140000Z/20261203T150000Z"],
            "\(response.text)\n\(logs())")
        #expect(sink.messages.count == 1, "only carol's REPLY left as e-mail: \(sink.messages.map { $0["to"] ?? "" })")
    }
}
