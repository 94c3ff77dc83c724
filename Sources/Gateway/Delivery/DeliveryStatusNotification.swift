internal import Foundation
internal import ISchedule
internal import Transport

/// The bounce (RFC 3464 delivery status notification, RFC 3462 multipart/report) the mail filter
/// sends to a message's envelope sender for recipients it took from the MTA and could deliver
/// neither by iSchedule nor by handing the e-mail back: a human-readable part, one
/// `message/delivery-status` field group per recipient, and the original message's header. Sent
/// with the null sender (never bounced again) and `Auto-Submitted: auto-replied` (RFC 3834).
enum DeliveryStatusNotification {
    /// One recipient the message did not reach.
    struct Failure: Sendable, Equatable {
        /// The envelope recipient as the MTA gave it.
        var recipient: String
        /// RFC 3463 status: from the MTA's enhanced code when it gave one, else 5.0.0, or 4.4.7
        /// when only temporary failures were met until the gateway gave up.
        var status: String
        /// What the last server said, for `Diagnostic-Code: smtp;`.
        var diagnostic: String
    }

    /// - Parameters:
    ///   - reportingHost: the gateway's host name, for `Reporting-MTA` and the Message-ID.
    ///   - sender: the original envelope sender: the bounce's only recipient (never empty).
    ///   - original: the original e-mail (its header goes into the report).
    ///   - arrival, now: Unix seconds.
    static func build(
        reportingHost: String, sender: Mailbox, failures: [Failure], original: [UInt8], arrival: Int64,
        now: Int64, messageID: String
    ) -> MailSubmission {
        let boundary = "=_ischedule_dsn_\(messageID)"
        let host = headerSafe(reportingHost)
        var lines = [
            "From: Mail Delivery System <MAILER-DAEMON@\(sender.domain)>",
            "To: \(sender.text)",
            "Subject: Undelivered Mail Returned to Sender",
            "Date: \(IMIPMessage.rfc5322Date(now))",
            "Message-ID: <\(messageID)@\(host)>",
            "Auto-Submitted: auto-replied",
            "MIME-Version: 1.0",
            "Content-Type: multipart/report; report-type=delivery-status;",
            " boundary=\"\(boundary)\"",
            "",
            "--\(boundary)",
            "Content-Type: text/plain; charset=us-ascii",
            "",
            "This is the ischedule-gateway mail filter at \(host).",
            "",
            "Your message could not be delivered to the following recipients, neither",
            "by iSchedule nor by e-mail:",
            ""
        ]
        for failure in failures { lines.append("<\(headerSafe(failure.recipient))>: \(headerSafe(failure.diagnostic))") }
        lines += [
            "", "--\(boundary)", "Content-Type: message/delivery-status", "",
            "Reporting-MTA: dns; \(host)", "Arrival-Date: \(IMIPMessage.rfc5322Date(arrival))"
        ]
        for failure in failures {
            lines += [
                "", "Final-Recipient: rfc822; \(headerSafe(failure.recipient))", "Action: failed", "Status: \(failure.status)",
                "Diagnostic-Code: smtp; \(headerSafe(failure.diagnostic))"
            ]
        }
        lines += ["", "--\(boundary)", "Content-Type: text/rfc822-headers", ""]
        var message = Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
        message += header(of: original)
        message += Array("\r\n--\(boundary)--\r\n".utf8)
        return MailSubmission(sender: "", recipients: [sender.text], message: message)
    }

    /// The RFC 3463 status of a refusal: the enhanced code an SMTP reply text starts with, if any.
    static func status(code: Int, text: String) -> String {
        let first = text.split(separator: " ").first.map(String.init) ?? ""
        let parts = first.split(separator: ".")
        if parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCIIDigit) }),
            ["2", "4", "5"].contains(String(parts[0]))
        {
            return first
        }
        return (400..<500).contains(code) ? "4.0.0" : "5.0.0"
    }

    /// The header of a message (up to the first empty line, at most 64 KiB), ending in CRLF.
    static func header(of message: [UInt8]) -> [UInt8] {
        var end = message.endIndex
        var index = message.startIndex
        while index + 3 < message.endIndex {
            if message[index] == 0x0D, message[index + 1] == 0x0A, message[index + 2] == 0x0D, message[index + 3] == 0x0A {
                end = index + 2
                break
            }
            index += 1
        }
        var head = Array(message[..<min(end, 64 << 10)])
        if head.suffix(2) != [0x0D, 0x0A] { head += [0x0D, 0x0A] }
        return head
    }

    /// Printable ASCII only, at most 300 characters: text from another server never breaks a line.
    private static func headerSafe(_ text: String) -> String {
        String(String(text.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" }).prefix(300))
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
