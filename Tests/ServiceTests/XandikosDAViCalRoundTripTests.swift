import Foundation
import TestSupport
import TestTraits
import Testing

/// A Xandikos 0.4.10 domain (its Postfix, filter and gateway) and a DAViCal 1.1 domain (DAViCal
/// speaks draft-01 iSchedule itself): every step read back in the receiving server's own store.
/// DAViCal sends iSchedule only as an organizer (a REQUEST); its attendees' REPLYs and its
/// organizers' CANCELs go to local users only (`do_scheduling_reply`, `doItipOrganizerCancel`),
/// and what it receives by iSchedule it files in the user's scheduling Inbox.
@Suite("Xandikos round trips with DAViCal, through Xandikos's gateway", .serialized, .waitsOnProcesses)
struct XandikosDAViCalRoundTripTests {
    @Test(
        "Xandikos ⇄ DAViCal: alice's invitation and CANCEL reach erin's Inbox; dave's invitation reaches alice's calendar and her acceptance dave's Inbox"
    )
    func xandikosAndDAViCal() throws {
        let certificates = try TestCertificates()
        let tls = try certificates.issue("isched", subjectAltNames: ["DNS:isched.xandikos.test"])
        let sink = try TestSMTPServer(mode: .plain, cert: tls.cert, key: tls.key)
        defer { sink.stop() }
        let x = try MailSideDomain("xandikos.test", relayPort: sink.port)
        defer { x.stop() }
        let xandikos = try TestXandikos(
            user: "alice", address: "mailto:alice@xandikos.test", smtpPort: x.postfix.submissionPort, from: x.systemSender)
        defer { xandikos.stop() }
        try x.postfix.route(["xandikos.test": "lmtp:inet:127.0.0.1:\(xandikos.lmtpPort)"])
        let nameserver = "127.53.\(UInt8.random(in: 1...250)).\(UInt8.random(in: 1...250))"
        let davical = try TestDAViCal(domain: "davical.test", users: ["dave", "erin"], nameserver: nameserver, certificates: certificates)
        defer { davical.stop() }
        let davicalZone =
            zoneHead("davical.test") + """
                _ischedules._tcp IN SRV 0 1 \(davical.httpsPort) isched.davical.test.
                isched IN A 127.0.0.1
                cal._domainkey IN TXT \(zoneTXT(davical.keyRecord))
                """
        let dns = try TestDNSServer(zones: ["xandikos.test": x.zone(forDraft01Peers: true), "davical.test": davicalZone], onPort53: nameserver)
        defer { dns.stop() }
        try x.start(
            upstream: nil, certificate: tls, dns: dns.server, caFile: certificates.caFile,
            overrides: ["remote-domains": ["davical.test": ["signing-domains": [], "dialect": "draft-01"]]])
        let logs = { "\(x.logs)\nxandikos:\n\(xandikos.log.suffix(1_000))\ndavical:\n\(davical.errorLog.suffix(1_500))" }

        // alice invites erin: Xandikos → Postfix → filter → signed draft-01 iSchedule → DAViCal.
        let uid = UUID().uuidString
        let event = TodaysServersBedTests.event(uid: uid, organizer: "mailto:alice@xandikos.test", attendees: ["mailto:erin@davical.test"])
        #expect(try xandikos.put("sync.ics", event) == 201, "\(xandikos.log)")
        func erinHas(_ method: String) -> Bool {
            ((try? davical.inbox(of: "erin")) ?? []).contains { $0.contains("UID:\(uid)") && $0.contains("METHOD:\(method)") }
        }
        #expect(waitUntil(seconds: 60) { erinHas("REQUEST") }, "\(logs())")

        // dave invites alice: DAViCal → iSchedule → Xandikos's gateway → Postfix → LMTP → Xandikos.
        let invitation = UUID().uuidString
        let daves = TodaysServersBedTests.event(
            uid: invitation, organizer: "mailto:dave@davical.test", attendees: ["mailto:dave@davical.test", "mailto:alice@xandikos.test"])
        #expect(try davical.put(user: "dave", name: "\(invitation).ics", calendar: daves) == 201)
        let copy = try #require(
            waitFor(seconds: 60) { TodaysServersRoundTripTests.object(invitation, in: xandikos.calendarURL) }, "\(logs())")

        // alice accepts: Xandikos mails the REPLY → filter → iSchedule → dave's Inbox.
        let accepted = TodaysServersRoundTripTests.answering(copy.body, as: "mailto:alice@xandikos.test", "ACCEPTED")
        #expect(try calDAVRequest("PUT", copy.url, headers: ["Content-Type": "text/calendar"], body: accepted).status < 300)
        #expect(
            waitUntil(seconds: 60) {
                ((try? davical.inbox(of: "dave")) ?? []).contains {
                    $0.contains("UID:\(invitation)") && $0.contains("METHOD:REPLY")
                        && TodaysServersRoundTripTests.partstat(of: "mailto:alice@xandikos.test", in: $0) == "ACCEPTED"
                }
            }, "\(logs())")

        // alice deletes her event: the CANCEL reaches erin's Inbox.
        #expect(try calDAVRequest("DELETE", xandikos.calendarURL + "sync.ics").status < 300)
        #expect(waitUntil(seconds: 60) { erinHas("CANCEL") }, "\(logs())")
        #expect(sink.messages.isEmpty, "nothing left as e-mail: \(sink.messages)")
    }
}
