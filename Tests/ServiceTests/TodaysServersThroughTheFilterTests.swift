import DKIM
import Foundation
import TestSupport
import TestTraits
import Testing

/// Radicale 3.9.0 and Xandikos 0.4.10 sending their invitations to a real Postfix with the mail
/// filter (`MailFilterTests.World`): to a domain with iSchedule they leave signed by iSchedule,
/// to one without as the e-mail the server wrote. Both send from a fixed address
/// (`from_email`, `--smtp-from`), here `noreply@alpha.test`, which `imip-intake.trusted-senders`
/// lets speak for alpha.test's organizers.
@Suite("Radicale and Xandikos through Postfix and the mail filter", .serialized, .waitsOnProcesses)
struct TodaysServersThroughTheFilterTests {
    static func event(organizer: String, attendees: [String]) -> String {
        TodaysServersBedTests.event(uid: UUID().uuidString, organizer: organizer, attendees: attendees)
    }

    func verifiedPost(_ world: MailFilterTests.World, for address: String, organizer: String) async throws {
        let post = try #require(world.posts(for: address).first)
        #expect(post.values("Originator") == [organizer] && post.values("Recipient") == ["mailto:\(address)"])
        #expect(post.body.contains("METHOD:REQUEST"), "\(post.body)")
        let verifier = DKIMVerifier(keys: KeyLocator(sources: [.dnsTXT: FixedKeyRecords(records: [KeyRecord.text(for: world.key.publicKey)])]))
        let verified = try await verifier.verify(
            headers: post.headers.map { HeaderField(name: $0.name, value: $0.value) }, body: Array(post.body.utf8))
        #expect(verified.domain == "alpha.test")
    }

    /// The filter's world with Radicale (users alice and bob, and the gateway's account
    /// `ischedule-check`, which may read every user's calendars) mailing from
    /// noreply@alpha.test, named in `infer-requests-from` with `organizer-calendars` on Radicale.
    static func radicaleWorld() throws -> (MailFilterTests.World, TestRadicale) {
        let world = try MailFilterTests.World()
        let radicale = try TestRadicale(
            users: ["alice": "alice-pw", "bob": "bob-pw", "ischedule-check": "check-pw"], readGrants: [("ischedule-check", "[^/]+")],
            smtpPort: world.postfix.submissionPort, from: "noreply@alpha.test")
        try world.reconfigure([
            "imip-intake": [
                "infer-requests-from": ["noreply@alpha.test"],
                "organizer-calendars": [
                    "calendars": [.scalar("http://127.0.0.1:\(radicale.port)/{user}/calendar/")], "username": "ischedule-check",
                    "password": "check-pw"
                ]
            ]
        ])
        return (world, radicale)
    }

    @Test(
        "Radicale's attachment without METHOD becomes a signed REQUEST for beta.test, confirmed in the organizer's own calendar; gamma.test gets Radicale's e-mail"
    )
    func radicaleThroughTheFilter() async throws {
        let (world, radicale) = try Self.radicaleWorld()
        defer { world.stop() }
        defer { radicale.stop() }
        let status = try radicale.put(
            "planning.ics", Self.event(organizer: "mailto:alice@alpha.test", attendees: ["mailto:bob@beta.test", "mailto:carol@gamma.test"]),
            as: "alice")
        #expect(status == 201, "\(radicale.log)")
        #expect(
            world.wait(seconds: 30) { !world.posts(for: "bob@beta.test").isEmpty && !world.mails(to: "carol@gamma.test").isEmpty },
            "\(world.logs)\n\(radicale.log.suffix(1_000))")
        try await verifiedPost(world, for: "bob@beta.test", organizer: "mailto:alice@alpha.test")
        #expect((world.mails(to: "carol@gamma.test").first?["data"] as? String)?.contains("filename= event.ics") == true)
        #expect(world.mails(to: "bob@beta.test").isEmpty && world.posts(for: "carol@gamma.test").isEmpty)
    }

    /// The attacks `infer-requests-from` opened, each tried by a Radicale user against the real
    /// Radicale: bob stores, in his own calendar, an event naming alice as ORGANIZER; one that
    /// reuses the UID of alice's event with other contents; and one with METHOD:CANCEL written
    /// in. None is signed as bob wrote it, and alice's invitation is not sent again.
    @Test(
        "a Radicale user cannot speak for another organizer: alice named in bob's calendar, alice's UID with bob's contents, a METHOD:CANCEL written in"
    )
    func radicaleUsersCannotImpersonate() throws {
        let (world, radicale) = try Self.radicaleWorld()
        defer { world.stop() }
        defer { radicale.stop() }
        func filtered() -> Int { world.postfix.log.components(separatedBy: "relay=ischedule").count - 1 }
        let forged = TodaysServersBedTests.event(uid: UUID().uuidString, organizer: "mailto:alice@alpha.test", attendees: ["mailto:dan@beta.test"])
        #expect(try radicale.put("forged.ics", forged, as: "bob") == 201)
        #expect(world.wait(seconds: 30) { !world.mails(to: "dan@beta.test").isEmpty }, "\(world.logs)")
        #expect(world.posts(for: "dan@beta.test").isEmpty)

        let uid = UUID().uuidString
        let genuine = TodaysServersBedTests.event(uid: uid, organizer: "mailto:alice@alpha.test", attendees: ["mailto:erin@beta.test"])
        #expect(try radicale.put("budget.ics", genuine, as: "alice") == 201)
        #expect(world.wait(seconds: 30) { world.posts(for: "erin@beta.test").count == 1 }, "\(world.logs)")
        let rewritten = genuine.replacingOccurrences(of: "SUMMARY:Planning meeting", with: "SUMMARY:Moved to my office")
        #expect(try radicale.put("budget.ics", rewritten, as: "bob") == 201)
        let cancel = genuine.replacingOccurrences(of: "VERSION:2.0\r\n", with: "VERSION:2.0\r\nMETHOD:CANCEL\r\n")
        #expect(try radicale.put("budget.ics", cancel, as: "bob") < 300)  // its summary changes back: Radicale mails it
        #expect(world.wait(seconds: 30) { filtered() >= 4 }, "\(world.logs)")
        usleep(1_000_000)  // time for a delivery, were one queued
        #expect(world.posts(for: "erin@beta.test").count == 1, "alice's invitation is not sent again")
        #expect(world.posts(for: "erin@beta.test").allSatisfy { $0.body.contains("SUMMARY:Planning meeting") && !$0.body.contains("METHOD:CANCEL") })
    }

    @Test("Xandikos's text/calendar REQUEST becomes a signed iSchedule REQUEST for beta.test")
    func xandikosThroughTheFilter() async throws {
        let world = try MailFilterTests.World()
        defer { world.stop() }
        let xandikos = try TestXandikos(
            user: "dan", address: "mailto:dan@alpha.test", smtpPort: world.postfix.submissionPort, from: "noreply@alpha.test")
        defer { xandikos.stop() }
        let status = try xandikos.put("planning.ics", Self.event(organizer: "mailto:dan@alpha.test", attendees: ["mailto:erin@beta.test"]))
        #expect(status == 201, "\(xandikos.log)")
        #expect(world.wait(seconds: 30) { !world.posts(for: "erin@beta.test").isEmpty }, "\(world.logs)\n\(xandikos.log.suffix(1_000))")
        try await verifiedPost(world, for: "erin@beta.test", organizer: "mailto:dan@alpha.test")
        #expect(world.mails(to: "erin@beta.test").isEmpty)
    }

    /// Without `infer-requests-from`, a calendar without METHOD is no invitation: Radicale's mail
    /// leaves as the e-mail it is, even to a domain with iSchedule, and nothing is signed.
    @Test("without infer-requests-from, Radicale's mail stays e-mail: nothing signed for an organizer it never vouched for")
    func radicaleStaysMailByDefault() throws {
        let world = try MailFilterTests.World()
        defer { world.stop() }
        let radicale = try TestRadicale(users: ["alice": "alice-pw"], smtpPort: world.postfix.submissionPort, from: "noreply@alpha.test")
        defer { radicale.stop() }
        #expect(
            try radicale.put("planning.ics", Self.event(organizer: "mailto:alice@alpha.test", attendees: ["mailto:bob@beta.test"]), as: "alice")
                == 201)
        #expect(world.wait(seconds: 30) { !world.mails(to: "bob@beta.test").isEmpty }, "\(world.logs)")
        #expect(world.posts(for: "bob@beta.test").isEmpty)
    }
}
