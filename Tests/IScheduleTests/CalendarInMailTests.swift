import Foundation
import TestSupport
import Testing

@testable import ISchedule

/// Finding the iTIP object in the e-mails calendar servers send, and nothing in others.
@Suite struct CalendarInMailTests {
    static let calendar = """
        BEGIN:VCALENDAR\r
        VERSION:2.0\r
        PRODID:-//test//EN\r
        METHOD:REQUEST\r
        BEGIN:VEVENT\r
        UID:mail-1@alpha.test\r
        DTSTAMP:20261126T120000Z\r
        DTSTART:20261201T150000Z\r
        SUMMARY:Caf\u{e9} = planning, a summary long enough that quoted-printable has to break its line somewhere\r
        ORGANIZER:mailto:alice@alpha.test\r
        ATTENDEE:mailto:bob@beta.test\r
        END:VEVENT\r
        END:VCALENDAR\r

        """

    /// Quoted-printable as mailers write it: `=XX` for `=` and non-ASCII, soft breaks at 76.
    static func quotedPrintable(_ text: String) -> String {
        var lines: [String] = []
        for line in text.components(separatedBy: "\r\n") {
            var encoded = ""
            for byte in line.utf8 {
                let character = (byte == UInt8(ascii: "=") || byte >= 0x80) ? String(format: "=%02X", byte) : String(UnicodeScalar(byte))
                if encoded.split(separator: "\n").last.map({ $0.count + character.count > 75 }) ?? false { encoded += "=\r\n" }
                encoded += character
            }
            lines.append(encoded)
        }
        return lines.joined(separator: "\r\n")
    }

    static func base64(_ text: String) -> String {
        Data(text.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
    }

    /// Nextcloud's IMipPlugin (Symfony Mailer): text and HTML, the calendar as an attachment.
    static let nextcloud = """
        From: Alice via Nextcloud <noreply@cloud.alpha.test>\r
        Reply-To: alice@alpha.test\r
        To: bob@beta.test\r
        Subject: Invitation: planning\r
        Message-ID: <7f3c9e@cloud.alpha.test>\r
        MIME-Version: 1.0\r
        Content-Type: multipart/mixed;\r
         boundary="=_outer_1"\r
        \r
        This is a multi-part message in MIME format.\r
        --=_outer_1\r
        Content-Type: multipart/alternative; boundary=inner_2\r
        \r
        --inner_2\r
        Content-Type: text/plain; charset=utf-8\r
        Content-Transfer-Encoding: quoted-printable\r
        \r
        Alice invited you =3D planning\r
        --inner_2\r
        Content-Type: text/html; charset=utf-8\r
        Content-Transfer-Encoding: quoted-printable\r
        \r
        <p>Alice invited you</p>\r
        --inner_2--\r
        \r
        --=_outer_1\r
        Content-Type: text/calendar; name=event.ics; charset=utf-8; method=REQUEST\r
        Content-Transfer-Encoding: base64\r
        Content-Disposition: attachment; filename=event.ics\r
        \r
        \(base64(calendar))\r
        --=_outer_1--\r
        epilogue\r

        """

    @Test func nextcloudAttachment() throws {
        #expect(CalendarInMail.find(in: MailEntity(Array(Self.nextcloud.utf8)[...])) == Array(Self.calendar.utf8))
        let mail = MailEntity(Array(Self.nextcloud.utf8)[...])
        #expect(mail.header("message-id") == "<7f3c9e@cloud.alpha.test>")
        #expect(mail.contentType["boundary"] == "=_outer_1")
        #expect(mail.parts.count == 2)
        #expect(mail.parts[0].parts.map(\.contentType.essence) == ["text/plain", "text/html"])
        #expect(mail.parts[0].parts[0].decodedBody == Array("Alice invited you = planning".utf8))
    }

    @Test func wholeMessageIsTheCalendar() {
        // SabreDAV's plain IMipPlugin: the message body is the calendar; bare LF line ends as PHP's mail() may pass them.
        let message =
            "Content-Type: text/calendar; charset=UTF-8; method=REQUEST\nContent-Transfer-Encoding: 8bit\nSubject: x\n\n"
            + Self.calendar
        #expect(CalendarInMail.find(in: MailEntity(Array(message.utf8)[...])) == Array(Self.calendar.utf8))
    }

    @Test func methodPartWinsOverTheAttachment() {
        // Google and Outlook: text/calendar with method in the alternative, the same as an application/ics attachment.
        let other = Self.calendar.replacingOccurrences(of: "mail-1", with: "attachment")
        let message = """
            Content-Type: multipart/mixed; boundary="m"\r
            \r
            --m\r
            Content-Type: multipart/alternative; boundary="a"\r
            \r
            --a\r
            Content-Type: text/plain; charset=utf-8\r
            \r
            hello\r
            --a\r
            Content-Type: text/calendar; charset="UTF-8"; method=REQUEST\r
            Content-Transfer-Encoding: quoted-printable\r
            \r
            \(Self.quotedPrintable(Self.calendar))\r
            --a--\r
            --m\r
            Content-Type: application/ics; name="invite.ics"\r
            Content-Transfer-Encoding: base64\r
            \r
            \(Self.base64(other))\r
            --m--\r

            """
        #expect(CalendarInMail.find(in: MailEntity(Array(message.utf8)[...])) == Array(Self.calendar.utf8))
    }

    @Test func quotedPrintableRoundTrips() {
        let encoded = Self.quotedPrintable(Self.calendar)
        #expect(encoded.contains("=\r\n"))
        #expect(encoded.contains("=C3=A9"))
        #expect(MailEntity.decodeQuotedPrintable(Array(encoded.utf8)[...]) == Array(Self.calendar.utf8))
        #expect(MailEntity.decodeQuotedPrintable(Array("a=3Db  \r\nc=\r\nd=ZZ=".utf8)[...]) == Array("a=b\r\ncd=ZZ".utf8))
    }

    @Test func nothingToFindInOtherMail() {
        let plain = "From: a@alpha.test\r\nSubject: lunch\r\n\r\nBEGIN:VCALENDAR is just text here\r\n"
        #expect(CalendarInMail.find(in: MailEntity(Array(plain.utf8)[...])) == nil)
        let latin1 = "Content-Type: text/calendar; charset=iso-8859-1; method=REQUEST\r\n\r\n" + Self.calendar
        #expect(CalendarInMail.find(in: MailEntity(Array(latin1.utf8)[...])) == nil)
        let unknownEncoding = "Content-Type: text/calendar; method=REQUEST\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644\r\n"
        #expect(CalendarInMail.find(in: MailEntity(Array(unknownEncoding.utf8)[...])) == nil)
        let forwarded = "Content-Type: message/rfc822\r\n\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n" + Self.calendar
        #expect(CalendarInMail.find(in: MailEntity(Array(forwarded.utf8)[...])) == nil)
        let noBlankLine = "Subject: only headers\r\nX-A: b"
        #expect(MailEntity(Array(noBlankLine.utf8)[...]).headers.map(\.name) == ["Subject", "X-A"])
    }

    /// A message captured from the real server (TodaysServersBedTests runs it), in Tests/Fixtures/mail.
    static func captured(_ name: String) throws -> MailEntity {
        let file = Fixtures.directory.deletingLastPathComponent().appendingPathComponent("mail/\(name)")
        let text = String(decoding: try Data(contentsOf: file), as: UTF8.self)
        // Mail on the wire has CRLF line ends; the capture was saved with the sink's LF.
        return MailEntity(Array(text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n").utf8)[...])
    }

    @Test("Radicale 3.9.0's invitation: the stored event in an application/octet-stream event.ics attachment, read as a REQUEST")
    func radicalesAttachmentIsAnInvitation() throws {
        let mail = try Self.captured("radicale-3.9.0-invitation.eml")
        let found = CalendarInMail.withInferredMethod(try #require(CalendarInMail.find(in: mail)))
        let itip = try ITIPMessage(parsing: found)
        #expect(itip.method == .request && itip.componentType == "VEVENT")
        #expect(itip.expectedOriginator?.text == "mailto:alice@radicale.test")
        #expect(CalendarInMail.fileName(of: try #require(mail.parts.last)) == "event.ics")
    }

    @Test("Xandikos 0.4.10's invitation: one text/calendar part with its method, taken as it is")
    func xandikossPartIsAnInvitation() throws {
        let mail = try Self.captured("xandikos-0.4.10-invitation.eml")
        let itip = try ITIPMessage(parsing: try #require(CalendarInMail.find(in: mail)))
        #expect(itip.method == .request && itip.expectedOriginator?.text == "mailto:alice@xandikos.test")
    }

    @Test(
        "aCalendarWithoutMethodIsARequest only with an ORGANIZER and an ATTENDEE; a METHOD stays; other attachments are not calendars"
    )
    func aCalendarWithoutMethodIsARequest() {
        let stored = Self.calendar.replacingOccurrences(of: "METHOD:REQUEST\r\n", with: "")
        let request = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\n" + stored.dropFirst("BEGIN:VCALENDAR\r\n".count)
        #expect(CalendarInMail.withInferredMethod(Array(stored.utf8)) == Array(request.utf8))
        let lonely = stored.replacingOccurrences(of: "ATTENDEE:mailto:bob@beta.test\r\n", with: "")
        #expect(CalendarInMail.withInferredMethod(Array(lonely.utf8)) == Array(lonely.utf8), "no attendee: not an invitation")
        let reply = Self.calendar.replacingOccurrences(of: "METHOD:REQUEST", with: "METHOD:REPLY")
        #expect(CalendarInMail.withInferredMethod(Array(reply.utf8)) == Array(reply.utf8))
        let binary =
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/octet-stream\r\n"
            + "Content-Disposition: attachment; filename=\"notes.txt\"\r\n\r\n\(stored)\r\n--b--\r\n"
        #expect(CalendarInMail.find(in: MailEntity(Array(binary.utf8)[...])) == nil, "an octet-stream not named .ics is not looked at")
    }
}
