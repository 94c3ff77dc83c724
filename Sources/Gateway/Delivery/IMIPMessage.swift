import Foundation
internal import ISchedule
internal import Transport

/// Builds the RFC 6047 (iMIP) e-mail that carries an iTIP message to a recipient whose domain
/// cannot be reached by iSchedule: `From` and the envelope sender are the gateway's own address,
/// `Reply-To` the originator (so a reply reaches the organizer or attendee), a Subject from METHOD and
/// SUMMARY, and a `multipart/alternative` with a readable `text/plain` part and the calendar object
/// unchanged as `text/calendar; method=…; charset=utf-8`. Lines end in CRLF and stay under 78 octets.
enum IMIPMessage {
    /// The gateway's identity as an e-mail sender.
    struct Sender: Sendable, Equatable {
        var address: String
        var displayName: String?
        /// Right-hand side of generated Message-IDs.
        var messageIDDomain: String

        init(address: String, displayName: String? = nil, messageIDDomain: String) {
            self.address = address
            self.displayName = displayName
            self.messageIDDomain = messageIDDomain
        }
    }

    enum BuildError: Error, Sendable, Equatable, CustomStringConvertible {
        case freeBusyIsNotMailable
        case notAMailbox(String)

        var description: String {
            switch self {
            case .freeBusyIsNotMailable: "free-busy requests cannot be answered by e-mail"
            case .notAMailbox(let address): "\(address) is not a mailto: address"
            }
        }
    }

    /// - Parameters:
    ///   - calendar: the iTIP body exactly as it should arrive (sent base64, so byte for byte).
    ///   - date: Unix seconds for the Date header.
    ///   - messageID: left part of the Message-ID (a new UUID when nil).
    /// Marks the gateway's own iMIP messages: the mail filter (`imip-intake`) passes them on
    /// unchanged, so a fallback e-mail never goes back to iSchedule (and round again).
    static let loopGuardHeader = "X-iSchedule-Gateway"

    static func build(
        calendar: [UInt8], message: ITIPMessage, originator: CalendarUserAddress,
        recipient: CalendarUserAddress, sender: Sender, date: Int64,
        messageID: String? = nil
    ) throws(BuildError) -> MailSubmission {
        let messageID = messageID ?? UUID().uuidString.lowercased()
        guard message.componentType != "VFREEBUSY" else { throw .freeBusyIsNotMailable }
        guard let to = mailbox(recipient) else { throw .notAMailbox(recipient.text) }
        guard let replyTo = mailbox(originator) else { throw .notAMailbox(originator.text) }
        let boundary = "=_ischedule_\(UUID().uuidString.lowercased())"
        let summary = message.calendar.components.first { $0.name == message.componentType }?.property("SUMMARY").map { unescape($0.value) }
        let subject = summary.map { "\(label(message.method)): \($0)" } ?? label(message.method)
        var lines = [
            "From: " + (sender.displayName.map { "\(phrase($0)) <\(sender.address)>" } ?? sender.address),
            "To: \(to)",
            "Reply-To: \(replyTo)",
            "Subject: " + headerText(subject),
            "Date: \(rfc5322Date(date))",
            "Message-ID: <\(messageID)@\(sender.messageIDDomain)>",
            "MIME-Version: 1.0",
            "\(loopGuardHeader): iMIP fallback",
            "Content-Type: multipart/alternative;",
            " boundary=\"\(boundary)\"",
            "",
            "--\(boundary)",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            ""
        ]
        lines += base64Lines(Array(readableText(message, summary: summary, originator: originator).utf8))
        lines += [
            "--\(boundary)",
            "Content-Type: text/calendar; method=\(message.method.rawValue); charset=utf-8",
            "Content-Transfer-Encoding: base64",
            ""
        ]
        lines += base64Lines(calendar)
        lines += ["--\(boundary)--", ""]
        return MailSubmission(sender: sender.address, recipients: [to], message: Array(lines.joined(separator: "\r\n").utf8))
    }

    static func label(_ method: ITIPMethod) -> String {
        switch method {
        case .request: "Invitation"
        case .reply: "Reply"
        case .cancel: "Cancelled"
        case .publish: "Published"
        case .add: "Additional instance"
        case .refresh: "Refresh request"
        case .counter: "Counter proposal"
        case .declineCounter: "Counter proposal declined"
        case .pollStatus: "Poll status"
        }
    }

    /// The bare mailbox of a `mailto:` address, written from its parsed parts; nil for other schemes.
    static func mailbox(_ address: CalendarUserAddress) -> String? {
        address.mailbox?.text
    }

    private static func readableText(_ message: ITIPMessage, summary: String?, originator: CalendarUserAddress) -> String {
        let component = message.calendar.components.first { $0.name == message.componentType }
        var text = ["\(label(message.method)): \(summary ?? "(no title)")", "From: \(originator.canonical)"]
        if let start = component?.property("DTSTART") { text.append("When: \(start.value)" + (start.parameter("TZID").map { " (\($0))" } ?? "")) }
        if let location = component?.property("LOCATION") { text.append("Where: \(unescape(location.value))") }
        text.append("")
        text.append("Your calendar program can act on the attached \(message.method.rawValue.lowercased()) (text/calendar).")
        return text.joined(separator: "\r\n") + "\r\n"
    }

    /// RFC 5545 TEXT unescaping; line breaks become blanks (header-safe).
    static func unescape(_ value: String) -> String {
        var out = ""
        var escaped = false
        for character in value {
            if escaped {
                out.append(character == "n" || character == "N" ? " " : character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                out.append(character)
            }
        }
        return out.filter { $0 != "\r" && $0 != "\n" }
    }

    /// Plain ASCII when short, else RFC 2047 encoded-words folded onto continuation lines.
    static func headerText(_ text: String) -> String {
        if text.utf8.count <= 60 && text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text }
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 39 {  // 52 base64 characters: with "Subject: " still under 78
                words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    private static func phrase(_ name: String) -> String {
        name.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F })
            ? "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
            : headerText(name)
    }

    private static func base64Lines(_ bytes: [UInt8]) -> [String] {
        let encoded = Data(bytes).base64EncodedString()
        return stride(from: 0, to: encoded.count, by: 76).map { offset in
            let start = encoded.index(encoded.startIndex, offsetBy: offset)
            return String(encoded[start..<(encoded.index(start, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex)])
        }
    }

    static func rfc5322Date(_ seconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
