import DKIM
import Foundation
import TestSupport
import TestTraits
import Testing

/// A path no server has alone: Cyrus IMAP (which sends only iMIP for remote attendees) → Postfix
/// → the gateway's mail filter → iSchedule → DAViCal, all Debian's packages on loopback, the
/// result read from DAViCal's own store.
@Suite("Cyrus to DAViCal through Postfix and the gateway", .serialized, .waitsOnProcesses)
struct MailToDAViCalTests {
    @Test("a Cyrus user's invitation e-mail to a DAViCal user arrives in the DAViCal user's Inbox by iSchedule, not by e-mail")
    func cyrusInvitationReachesDAViCal() throws {
        let certificates = try TestCertificates()
        let tls = try certificates.issue("localhost", subjectAltNames: ["DNS:localhost", "IP:127.0.0.1"])
        let sink = try TestSMTPServer(mode: .plain, cert: tls.cert, key: tls.key)
        defer { sink.stop() }
        let nameserver = "127.53.\(UInt8.random(in: 1...250)).\(UInt8.random(in: 1...250))"
        let davical = try TestDAViCal(domain: "gamma.test", users: ["dave"], nameserver: nameserver, certificates: certificates)
        defer { davical.stop() }
        let directory = GatewayProcess.temporaryDirectory("mail-to-davical")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("keys"), withIntermediateDirectories: true)
        let key = try RSAPrivateKey.generate(bits: 2048)
        try key.pkcs8PEM.write(to: directory.appendingPathComponent("keys/alpha.pem"), atomically: true, encoding: .utf8)
        let dns = try TestDNSServer(
            zones: [
                "gamma.test": zoneHead("gamma.test") + """
                    _ischedules._tcp IN SRV 0 1 \(davical.httpsPort) isched.gamma.test.
                    isched IN A 127.0.0.1
                    cal._domainkey IN TXT \(zoneTXT(davical.keyRecord))
                    """,
                // DAViCal checks our signature against this record: s=* (it refuses s=ischedule).
                "alpha.test": zoneHead("alpha.test") + "gw._domainkey IN TXT \(zoneTXT(KeyRecord.text(for: key.publicKey, forDraft01Peers: true)))\n"
            ], onPort53: nameserver)
        defer { dns.stop() }
        let configurationFile = directory.appendingPathComponent("gateway.yaml")
        let postfix = try TestPostfix(
            services: MailFilterTests.World.filterServices(binary: GatewayBinary.url.path, configuration: configurationFile.path),
            relayPort: sink.port)
        defer { postfix.stop() }
        var configuration = MailFilterTests.World.configuration(dns: dns.server, reinjectionPort: postfix.reinjectionPort)
        configuration["tls", "ca-file"] = .scalar(certificates.caFile)
        let gateway = try GatewayProcess(
            configuration: configuration, directory: directory, launcher: MailFilterTests.World.asNobody(owning: directory))
        defer { _ = gateway.stop() }
        let cyrus = try TestCyrus(domain: "alpha.test", users: ["alice"], smtpPort: postfix.submissionPort)
        defer { cyrus.stop() }

        let uid = "cyrus-to-davical-\(UUID().uuidString.prefix(8))@alpha.test"
        let event = """
            BEGIN:VCALENDAR\r
            VERSION:2.0\r
            PRODID:-//test//EN\r
            BEGIN:VEVENT\r
            UID:\(uid)\r
            DTSTAMP:20261126T120000Z\r
            DTSTART:20261203T150000Z\r
            DTEND:20261203T160000Z\r
            SUMMARY:Cyrus meets DAViCal\r
            ORGANIZER:mailto:alice@alpha.test\r
            ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@alpha.test\r
            ATTENDEE;RSVP=TRUE;PARTSTAT=NEEDS-ACTION:mailto:dave@gamma.test\r
            END:VEVENT\r
            END:VCALENDAR\r

            """
        #expect(try cyrus.put(user: "alice", name: "to-davical.ics", calendar: event) == 201)
        let arrived = waitUntil(seconds: 40) { ((try? davical.inbox(of: "dave")) ?? []).contains { $0.contains(uid) } }
        #expect(
            arrived, "gateway:\n\(gateway.log.suffix(3_000))\npostfix:\n\(postfix.log.suffix(3_000))\nDAViCal:\n\(davical.errorLog.suffix(2_000))")
        let stored = try #require(try davical.inbox(of: "dave").first { $0.contains(uid) })
        #expect(stored.contains("ORGANIZER:mailto:alice@alpha.test") && stored.contains("SUMMARY:Cyrus meets DAViCal"))
        let mailed = sink.messages.filter { ($0["to"] as? [String])?.contains("dave@gamma.test") == true }
        #expect(mailed.isEmpty, "the invitation went by iSchedule, not also by e-mail")
    }
}
