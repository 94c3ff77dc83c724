import DKIM
import Foundation
import TestSupport
import TestTraits
import Testing

/// A partner's REPLY reaching a Xandikos user: the gateway verifies it and delivers it by e-mail
/// (`delivery: imip`) to a real Postfix, whose transport hands the domain to Xandikos's LMTP
/// listener; Xandikos's own iMIP processing sets the attendee's PARTSTAT in the organizer's
/// event, read back over CalDAV. The gateway's e-mail carries no `Auto-Submitted` (Xandikos
/// silently drops anything marked).
@Suite("A REPLY by iSchedule into Xandikos, through Postfix and LMTP", .serialized, .waitsOnProcesses)
struct XandikosInboundTests {
    @Test func aReplyReachesTheOrganizersEvent() throws {
        let tls = try TestCertificates().issue("localhost", subjectAltNames: ["DNS:localhost"])
        let sink = try TestSMTPServer(mode: .plain, cert: tls.cert, key: tls.key)
        defer { sink.stop() }
        // Xandikos first (its LMTP port goes into Postfix's transport); its own iMIP to the sink.
        let xandikos = try TestXandikos(user: "alice", address: "mailto:alice@xandikos.test", smtpPort: sink.port, from: "caldav@xandikos.test")
        defer { xandikos.stop() }
        let postfix = try TestPostfix(
            services: "127.0.0.1:SUBMISSION_PORT inet n - n - - smtpd\n127.0.0.1:REINJECTION_PORT inet n - n - - smtpd", relayPort: sink.port,
            transports: ["xandikos.test": "lmtp:inet:127.0.0.1:\(xandikos.lmtpPort)"])
        defer { postfix.stop() }
        let bed = try InboundBed(overrides: [
            "imip": ["smtp-url": "smtp://127.0.0.1:\(postfix.submissionPort)", "from": "calendar-gateway@xandikos.test", "require-tls": false],
            "delivery": ["poll-interval": "50ms"], "domains": ["xandikos.test": ["delivery": "imip"]]
        ])
        defer { _ = bed.stop() }

        let uid = UUID().uuidString
        let event = TodaysServersBedTests.event(uid: uid, organizer: "mailto:alice@xandikos.test", attendees: ["mailto:bob@alpha.test"])
        #expect(try xandikos.put("planning.ics", event) == 201, "\(xandikos.log)")

        // bob@alpha.test accepts: a REPLY signed by alpha.test, to the organizer.
        let reply = String(
            decoding: ITIP.calendar(
                method: "REPLY", organizer: "mailto:alice@xandikos.test", attendees: [], uid: uid,
                extra: ["ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@alpha.test"]), as: UTF8.self
        ).replacingOccurrences(of: "DTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z", with: "DTSTART:20301201T100000Z\r\nDTEND:20301201T110000Z")
        let headers = try RemoteSigner(domain: "alpha.test").sign(
            [("Originator", "mailto:bob@alpha.test"), ("Recipient", "mailto:alice@xandikos.test"), ("Content-Type", ITIP.contentType("REPLY"))],
            body: Array(reply.utf8))
        let response = try bed.post(headers, body: Array(reply.utf8))
        #expect(scheduleResponse(response)?.items.map(\.requestStatus.code) == ["1.1"], "\(response.text)")
        #expect(
            waitUntil(seconds: 30) { xandikos.partstat(of: "mailto:bob@alpha.test", in: "planning.ics") == "ACCEPTED" },
            "\(String(describing: xandikos.partstat(of: "mailto:bob@alpha.test", in: "planning.ics")))\n\(bed.gateway.log.suffix(1_500))\n\(postfix.log.suffix(1_500))\n\(xandikos.log.suffix(800))"
        )
    }
}
