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
    /// A fake of the organizers' calendars: a fixed answer, and the lookups asked of it.
    final class FakeOrganizerCopies: OrganizerCopies, @unchecked Sendable {
        let answer: OrganizerCopyLookup
        private let lock = NSLock()
        private var asked: [String] = []
        init(_ answer: OrganizerCopyLookup) { self.answer = answer }
        func copies(uid: String, of organizer: Mailbox) async -> OrganizerCopyLookup {
            lock.withLock { asked.append("\(organizer.text) \(uid)") }
            return answer
        }
        var lookups: [String] { lock.withLock { asked } }
    }

    /// The stored event as Radicale keeps it: no METHOD.
    static func stored(summary: String, attendees: [String] = ["mailto:bob@beta.test", "mailto:carol@gamma.test"]) -> String {
        String(decoding: ITIP.calendar(method: "REQUEST", organizer: "mailto:alice@alpha.test", attendees: attendees, uid: "ev-1"), as: UTF8.self)
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
        #expect(copies.lookups.count == 1 && copies.lookups.first?.hasPrefix("alice@alpha.test ") == true)
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
            decoding: ITIP.calendar(method: "REQUEST", organizer: "mailto:alice@alpha.test", attendees: ["mailto:bob@beta.test"], uid: "ev-1"),
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
