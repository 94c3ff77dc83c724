import Foundation
import ISchedule
import TestSupport
import TestTraits
import Testing

@testable import Gateway

/// The mail filter with a sender in `infer-requests-from` (Radicale's `from_email`): what it
/// sends by iSchedule is the organizer's own copy, to that copy's attendees, or nothing. The
/// organizer's calendars are a fake here (what the CalDAV server would answer); the real
/// Radicale answers in `XandikosRadicaleRoundTripTests` and `ImpersonationThroughRadicaleTests`.
@Suite(.waitsOnProcesses) struct OrganizerCopyIntakeTests {
    static let uid = "3f1c2a5e-planning@alpha.test"

    /// A fake of the organizers' calendars: alice's answer for the test's UID (nothing for any
    /// other organizer or UID), and the lookups asked of it.
    final class FakeOrganizerCopies: OrganizerCopies, @unchecked Sendable {
        let answer: OrganizerCopyLookup
        private let lock = NSLock()
        private var asked: [String] = []
        init(_ answer: OrganizerCopyLookup) { self.answer = answer }
        func copies(uid: String, of organizer: Mailbox) async -> OrganizerCopyLookup {
            lock.withLock { asked.append("\(organizer.text) \(uid)") }
            return organizer.text == "alice@alpha.test" && uid == OrganizerCopyIntakeTests.uid ? answer : .found([])
        }
        var lookups: [String] { lock.withLock { asked } }
    }

    /// The stored event as Radicale keeps it: no METHOD.
    static func stored(summary: String, attendees: [String] = ["mailto:bob@beta.test", "mailto:carol@gamma.test"]) -> String {
        String(decoding: ITIP.calendar(method: "REQUEST", organizer: "mailto:alice@alpha.test", attendees: attendees, uid: Self.uid), as: UTF8.self)
            .replacingOccurrences(of: "METHOD:REQUEST\r\n", with: "").replacingOccurrences(of: "SUMMARY:Planning meeting", with: "SUMMARY:\(summary)")
    }

    /// Radicale's mail: the stored event attached as `application/octet-stream` `event.ics`.
    static func mail(_ calendar: String) -> String {
        "From: noreply@alpha.test\r\nSubject: You have been added to an event\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nHello\r\n--b\r\n"
            + "Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename= event.ics\r\n"
            + "Content-Transfer-Encoding: base64\r\n\r\n" + Data(calendar.utf8).base64EncodedString(options: .lineLength76Characters)
            + "\r\n--b--\r\n"
    }

    func bed(_ answer: OrganizerCopyLookup) throws -> (IMIPIntakeTests.Bed, FakeOrganizerCopies) {
        let copies = FakeOrganizerCopies(answer)
        return (try IMIPIntakeTests.Bed(inferRequestsFrom: ["noreply@alpha.test"], organizerCopies: copies), copies)
    }

    @Test("the organizer's copy goes, not the mailed one: a mailed event with other contents sends what alice stored")
    func theStoredCopyGoes() async throws {
        let (bed, copies) = try bed(.found([Array(Self.stored(summary: "What alice stored").utf8)]))
        defer { bed.stop() }
        let outcome = await bed.run(Self.mail(Self.stored(summary: "What the mail says")), to: ["bob@beta.test", "carol@gamma.test"])
        #expect(outcome == .done(scheduled: ["bob@beta.test"], mailed: ["carol@gamma.test"]))
        #expect(copies.lookups == ["alice@alpha.test \(Self.uid)"])
        let body = String(decoding: try #require(try await bed.queue.list(state: .pending, limit: 10).first).body, as: UTF8.self)
        #expect(body.contains("SUMMARY:What alice stored") && body.contains("METHOD:REQUEST") && !body.contains("What the mail says"))
    }

    @Test("a recipient the organizer's copy does not name as ATTENDEE gets the e-mail, not a signed invitation")
    func onlyTheCopysAttendees() async throws {
        let (bed, _) = try bed(.found([Array(Self.stored(summary: "Planning", attendees: ["mailto:carol@gamma.test"]).utf8)]))
        defer { bed.stop() }
        let outcome = await bed.run(Self.mail(Self.stored(summary: "Planning")), to: ["bob@beta.test", "carol@gamma.test"])
        #expect(outcome == .done(scheduled: [], mailed: ["bob@beta.test", "carol@gamma.test"]))
        #expect(try await bed.queue.list(state: .pending, limit: 10).isEmpty)
    }

    @Test("no such event in the organizer's calendars (another user stored it naming alice): nothing signed, the mail goes as it is")
    func noCopyNoSignature() async throws {
        let (bed, _) = try bed(.found([]))
        defer { bed.stop() }
        let message = Self.mail(Self.stored(summary: "Planning"))
        #expect(await bed.run(message, to: ["bob@beta.test"]) == .done(scheduled: [], mailed: ["bob@beta.test"]))
        #expect(try await bed.queue.list(state: .pending, limit: 10).isEmpty)
        #expect(bed.sink.messages.first?["data"] as? String == message)
    }

    @Test("a METHOD written into the stored object by its user changes nothing: that sender's calendars are always confirmed")
    func anExplicitMethodIsConfirmedToo() async throws {
        let (bed, copies) = try bed(.found([]))
        defer { bed.stop() }
        let forged = String(
            decoding: ITIP.calendar(method: "REQUEST", organizer: "mailto:alice@alpha.test", attendees: ["mailto:bob@beta.test"], uid: Self.uid),
            as: UTF8.self)
        #expect(await bed.run(Self.mail(forged), to: ["bob@beta.test"]) == .done(scheduled: [], mailed: ["bob@beta.test"]))
        #expect(copies.lookups.count == 1)
    }

    @Test("the organizer's calendars cannot be read now: the MTA keeps the message (75), nothing queued, nothing mailed")
    func unreadableCalendarsWait() async throws {
        let (bed, _) = try bed(.unavailable("connection refused"))
        defer { bed.stop() }
        let outcome = await bed.run(Self.mail(Self.stored(summary: "Planning")), to: ["bob@beta.test", "carol@gamma.test"])
        guard case .temporaryFailure(let reason) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(reason.contains("connection refused"))
        #expect(try await bed.queue.list(state: .pending, limit: 10).isEmpty && bed.sink.messages.isEmpty)
    }
}

extension OrganizerCopyIntakeTests {
    @Test("the same copy is sent once: a user who stores alice's UID again and again cannot have her invitation re-sent")
    func theSameCopyGoesOnce() async throws {
        let (bed, _) = try bed(.found([Array(Self.stored(summary: "What alice stored").utf8)]))
        defer { bed.stop() }
        #expect(await bed.run(Self.mail(Self.stored(summary: "First")), to: ["bob@beta.test"]) == .done(scheduled: ["bob@beta.test"], mailed: []))
        #expect(await bed.run(Self.mail(Self.stored(summary: "Second")), to: ["bob@beta.test"]) == .done(scheduled: ["bob@beta.test"], mailed: []))
        #expect(try await bed.queue.list(state: .pending, limit: 10).count == 1)
    }

    @Test("a short UID is not looked up (CalDAV's text-match would fetch every event containing it): the mail stays e-mail")
    func aShortUIDIsNotLookedUp() async throws {
        let (bed, copies) = try bed(.found([]))
        defer { bed.stop() }
        let short = Self.stored(summary: "Planning").replacingOccurrences(of: "UID:\(Self.uid)", with: "UID:-")
        #expect(await bed.run(Self.mail(short), to: ["bob@beta.test"]) == .done(scheduled: [], mailed: ["bob@beta.test"]))
        #expect(copies.lookups.isEmpty)
    }
}

/// `imip-intake.organizer-calendars` in the configuration and in the filter's environment.
struct OrganizerCalendarsConfigurationTests {
    static func yaml(domains: [String], calendars: String, account: String) -> String {
        "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n"
            + domains.map { "  \($0):\n    upstream: http://127.0.0.1:2/\n" }.joined()
            + "imip-intake:\n  reinject-url: smtp://127.0.0.1:10026\n  trusted-senders: [radicale@\(domains[0])]\n"
            + "  infer-requests-from: [radicale@\(domains[0])]\n  organizer-calendars:\n    calendars: ['\(calendars)']\n" + account
    }

    @Test("with more than one domain of ours, organizer-calendars must name users by {address}: alice@one and alice@two are not one user")
    func severalDomainsNeedTheAddress() throws {
        let account = "    username: check\n    password: pw\n"
        let two = ["one.example", "two.example"]
        #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.parse(
                yaml: Self.yaml(domains: two, calendars: "http://127.0.0.1:5232/{user}/calendar/", account: account), directory: "/tmp")
        }
        _ = try ConfigurationLoader.parse(
            yaml: Self.yaml(domains: two, calendars: "http://127.0.0.1:5232/{address}/calendar/", account: account), directory: "/tmp")
        _ = try ConfigurationLoader.parse(
            yaml: Self.yaml(domains: ["one.example"], calendars: "http://127.0.0.1:5232/{user}/calendar/", account: account), directory: "/tmp")
    }

    @Test("the filter refuses (78) a password-env its environment lacks, instead of asking with a placeholder; password-file works there")
    func theFilterNeedsItsPassword() throws {
        let env = Self.yaml(
            domains: ["one.example"], calendars: "http://127.0.0.1:5232/{user}/calendar/",
            account: "    username: check\n    password-env: CHECK_PW\n")
        let configuration = try ConfigurationLoader.parse(yaml: env, directory: "/tmp", requireSecrets: false)
        let refused = try #require(MailFilter.precondition(configuration, recipients: ["bob@beta.test"]))
        #expect(refused.status == MailFilter.configurationError && refused.message.contains("CHECK_PW is not set in the filter's environment"))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("check-pw-\(UUID().uuidString)").path
        try "pw\n".write(toFile: file, atomically: true, encoding: .utf8)
        let fromFile = Self.yaml(
            domains: ["one.example"], calendars: "http://127.0.0.1:5232/{user}/calendar/",
            account: "    username: check\n    password-file: \(file)\n")
        let loaded = try ConfigurationLoader.parse(yaml: fromFile, directory: "/tmp", requireSecrets: false)
        #expect(MailFilter.precondition(loaded, recipients: ["bob@beta.test"]) == nil)
        #expect(loaded.imipIntake?.organizerCalendars?.password == "pw")
    }
}
