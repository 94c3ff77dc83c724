internal import Foundation

/// Finds the iTIP object an invitation e-mail carries (RFC 6047 §2.4). Senders put it in
/// different places: the whole message (SabreDAV's plain IMipPlugin), a `text/calendar;
/// method=…` part of `multipart/alternative` (RFC 6047, Google, Outlook), next to an
/// `application/ics` attachment, or as an attachment of `multipart/mixed` (Nextcloud). The part
/// with a `method` parameter wins, then any `text/calendar`, then `application/ics`, then an
/// `application/octet-stream` attachment named `*.ics` (Radicale's `email` hook); forwarded
/// messages (`message/rfc822`) are not looked into.
package enum CalendarInMail {
    /// The decoded calendar bytes (UTF-8), or nil when the message carries none this reader can use.
    package static func find(in message: MailEntity) -> [UInt8]? {
        var candidates: [(rank: Int, body: [UInt8])] = []
        var budget = 200
        collect(message, depth: 0, budget: &budget, into: &candidates)
        return candidates.min { $0.rank < $1.rank }?.body
    }

    /// A stored event mailed as it is (Radicale attaches the object from its store: no METHOD)
    /// is a REQUEST when its first component has an ORGANIZER and at least one ATTENDEE: the
    /// organizer's server telling attendees. Whether the sender may speak for that organizer is
    /// the mail filter's sender rule, as for any REQUEST. Anything else is left as it is.
    package static func withInferredMethod(_ calendar: [UInt8]) -> [UInt8] {
        let text = String(decoding: calendar, as: UTF8.self)
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n").map { $0.uppercased() }
        guard lines.first == "BEGIN:VCALENDAR", !lines.contains(where: { $0.hasPrefix("METHOD:") || $0.hasPrefix("METHOD;") }),
            let begin = lines.firstIndex(where: { $0 == "BEGIN:VEVENT" || $0 == "BEGIN:VTODO" })
        else { return calendar }
        let component = lines[begin...].prefix { !$0.hasPrefix("END:V") || $0 == "END:VALARM" }
        guard component.contains(where: { $0.hasPrefix("ORGANIZER") }), component.contains(where: { $0.hasPrefix("ATTENDEE") }),
            let headEnd = text.range(of: "\n")
        else { return calendar }
        let newline = text[..<headEnd.lowerBound].hasSuffix("\r") ? "\r\n" : "\n"
        return Array((text[..<headEnd.upperBound] + "METHOD:REQUEST" + newline + text[headEnd.upperBound...]).utf8)
    }

    private static func collect(
        _ entity: MailEntity, depth: Int, budget: inout Int,
        into candidates: inout [(rank: Int, body: [UInt8])]
    ) {
        guard depth < 10, budget > 0 else { return }
        budget -= 1
        let type = entity.contentType
        if type.essence.hasPrefix("multipart/") {
            for part in entity.parts(atMost: max(budget, 0)) { collect(part, depth: depth + 1, budget: &budget, into: &candidates) }
            return
        }
        let rank: Int
        switch type.essence {
        case "text/calendar": rank = type["method"] == nil ? 1 : 0
        case "application/ics": rank = 2
        case "application/octet-stream" where Self.fileName(of: entity)?.lowercased().hasSuffix(".ics") == true: rank = 3
        default: return
        }
        // iCalendar is UTF-8 (RFC 5545 §6); another declared charset is not converted here.
        if let charset = type["charset"]?.lowercased(), !["utf-8", "utf8", "us-ascii"].contains(charset) { return }
        guard let body = entity.decodedBody, !body.isEmpty else { return }
        candidates.append((rank, body))
    }

    /// The part's file name: Content-Disposition `filename`, else Content-Type `name` (blanks
    /// around `=` and quotes allowed: Radicale writes `filename= event.ics`).
    static func fileName(of entity: MailEntity) -> String? {
        for (field, parameter) in [("Content-Disposition", "filename"), ("Content-Type", "name")] {
            guard let value = entity.header(field) else { continue }
            for item in value.split(separator: ";").dropFirst() {
                let pair = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard pair.count == 2, pair[0].lowercased() == parameter else { continue }
                let name = pair[1].hasPrefix("\"") && pair[1].hasSuffix("\"") && pair[1].count >= 2 ? String(pair[1].dropFirst().dropLast()) : pair[1]
                if !name.isEmpty { return name }
            }
        }
        return nil
    }
}
