import Foundation
import ISchedule
import TestSupport
import TestTraits
import Testing
import Transport

@testable import Gateway

/// RFC 6047 messages, submitted to a real SMTP server and read back by Python's email parser.
@Suite(.serialized, .waitsOnProcesses) struct IMIPMessageTests {
    static let sender = IMIPMessage.Sender(
        address: "ischedule@example.com", displayName: "Example \"Calendar\" Gateway",
        messageIDDomain: "gateway.example.com")

    static func deliver(_ submission: MailSubmission) async throws -> [String: Any] {
        let certificates = try TestCertificates()
        let (cert, key) = try certificates.issue("localhost", subjectAltNames: ["DNS:localhost"])
        let server = try TestSMTPServer(mode: .starttls, cert: cert, key: key)
        defer { server.stop() }
        let client = SMTPClient(
            configuration: SMTPConfiguration(url: "smtp://localhost:\(server.port)", caFile: certificates.caFile),
            thread: CurlThread())
        try await client.send(submission)
        let record = try #require(server.messages.first)
        #expect(record["to"] as? [String] == submission.recipients && record["from"] as? String == submission.sender)
        return try #require(record["parsed"] as? [String: Any])
    }

    static func body(summary: String = "iSchedule test") throws -> [UInt8] {
        let text = (try Fixtures.json("derived-ischedule-signing-vectors.json")["body"] as! String)
            .replacingOccurrences(of: "SUMMARY:iSchedule test", with: "SUMMARY:\(summary)")
        return Array(text.utf8)
    }

    @Test func invitationArrivesWellFormedWithTheCalendarUnchanged() async throws {
        let calendar = try Self.body()
        let message = try ITIPMessage(parsing: calendar)
        let submission = try IMIPMessage.build(
            calendar: calendar, message: message, originator: CalendarUserAddress("mailto:alice@example.com")!,
            recipient: CalendarUserAddress("mailto:Bob@Example.ORG")!, sender: Self.sender,
            date: 1_700_000_000, messageID: "m1")
        // The local part as written (RFC 5321: only its domain may fold it), the domain in lower case.
        #expect(submission.sender == "ischedule@example.com" && submission.recipients == ["Bob@example.org"])
        let parsed = try await Self.deliver(submission)
        #expect(parsed["top"] as? String == "multipart/alternative")
        #expect((parsed["defects"] as? [String])?.isEmpty == true)
        #expect((parsed["longest_line"] as? Int ?? 999) <= 78)
        let parts = try #require(parsed["parts"] as? [[String: Any]])
        #expect(parts.map { $0["type"] as? String } == ["text/plain", "text/calendar"])
        #expect(parts[1]["method"] as? String == "REQUEST" && parts[1]["charset"] as? String == "utf-8")
        #expect(parts[1]["payload"] as? String == Data(calendar).base64EncodedString(), "the calendar object arrives byte for byte")
        let text = String(decoding: Data(base64Encoded: parts[0]["payload"] as! String)!, as: UTF8.self)
        #expect(text.hasPrefix("Invitation: iSchedule test\r\nFrom: mailto:alice@example.com\r\nWhen: 20240110T150000Z"))
        let headers = try #require(parsed["headers"] as? [String: String])
        #expect(headers["subject"] == "Invitation: iSchedule test")
        #expect(headers["from"] == "\"Example \\\"Calendar\\\" Gateway\" <ischedule@example.com>")
        #expect(headers["to"] == "Bob@example.org" && headers["reply-to"] == "alice@example.com")
        #expect(headers["message-id"] == "<m1@gateway.example.com>" && headers["date"] == "Tue, 14 Nov 2023 22:13:20 +0000")
    }

    @Test func longNonASCIISubjectsAreEncodedAndFolded() async throws {
        let summary = "Réunion trimestrielle — planification de l\\, année prochaine\\; budget et équipe"
        let calendar = try Self.body(summary: summary)
        let submission = try IMIPMessage.build(
            calendar: calendar, message: try ITIPMessage(parsing: calendar),
            originator: CalendarUserAddress("mailto:alice@example.com")!,
            recipient: CalendarUserAddress("mailto:bob@example.org")!, sender: Self.sender, date: 0)
        let parsed = try await Self.deliver(submission)
        let headers = try #require(parsed["headers"] as? [String: String])
        #expect(headers["subject"] == "Invitation: Réunion trimestrielle — planification de l, année prochaine; budget et équipe")
        #expect((parsed["longest_line"] as? Int ?? 999) <= 78)
    }

    @Test func freeBusyAndNonMailboxesAreRefused() throws {
        let freeBusy = Array(
            """
            BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VFREEBUSY\r\nDTSTART:20240101T000000Z\r\nDTEND:20240102T000000Z\r\n\
            ORGANIZER:mailto:a@example.com\r\nATTENDEE:mailto:b@example.org\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n
            """.utf8)
        let alice = CalendarUserAddress("mailto:alice@example.com")!
        #expect(throws: IMIPMessage.BuildError.freeBusyIsNotMailable) {
            try IMIPMessage.build(
                calendar: freeBusy, message: ITIPMessage(parsing: freeBusy), originator: alice,
                recipient: CalendarUserAddress("mailto:b@example.org")!, sender: Self.sender, date: 0)
        }
        let calendar = try Self.body()
        #expect(throws: IMIPMessage.BuildError.notAMailbox("urn:uuid:1234")) {
            try IMIPMessage.build(
                calendar: calendar, message: ITIPMessage(parsing: calendar), originator: alice,
                recipient: CalendarUserAddress("urn:uuid:1234")!, sender: Self.sender, date: 0)
        }
    }
}
