/// Finds the iTIP object an invitation e-mail carries (RFC 6047 §2.4). Senders put it in
/// different places: the whole message (SabreDAV's plain IMipPlugin), a `text/calendar;
/// method=…` part of `multipart/alternative` (RFC 6047, Google, Outlook), next to an
/// `application/ics` attachment, or as an attachment of `multipart/mixed` (Nextcloud). The part
/// with a `method` parameter wins, then any `text/calendar`, then `application/ics`; forwarded
/// messages (`message/rfc822`) are not looked into.
package enum CalendarInMail {
    /// The decoded calendar bytes (UTF-8), or nil when the message carries none this reader can use.
    package static func find(in message: MailEntity) -> [UInt8]? {
        var candidates: [(rank: Int, body: [UInt8])] = []
        var budget = 200
        collect(message, depth: 0, budget: &budget, into: &candidates)
        return candidates.min { $0.rank < $1.rank }?.body
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
        default: return
        }
        // iCalendar is UTF-8 (RFC 5545 §6); another declared charset is not converted here.
        if let charset = type["charset"]?.lowercased(), !["utf-8", "utf8", "us-ascii"].contains(charset) { return }
        guard let body = entity.decodedBody, !body.isEmpty else { return }
        candidates.append((rank, body))
    }
}
