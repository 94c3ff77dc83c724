internal import ISchedule

/// The records that take recipients on when iSchedule will not deliver to them
/// (`DeliveryPolicy.Disposition.handToEmail`): built here only, for the live attempt, the
/// worker and `queue force-imip` alike.
extension NewDelivery {
    /// The iMIP record for one `mailto:` recipient of a scheduling message.
    static func iMIP(
        for recipient: String, domain: String, messageID: String, originator: String, body: [UInt8],
        reason: String?, now: Int64
    ) -> NewDelivery {
        NewDelivery(
            kind: .iMIP, domain: domain, messageID: messageID, originator: originator, recipients: [recipient], body: body,
            notBefore: now, lastError: reason)
    }
}

extension QueuedDelivery {
    /// What takes `recipients` on when iSchedule will not: a mail-filter record's original e-mail,
    /// back to the MTA (one `reinject` record), else one iMIP record per `mailto:` recipient.
    func fallbackRecords(for recipients: [String], reason: String?, now: Int64) -> [NewDelivery] {
        guard originalMail == nil else { return Reinjection.record(returning: recipients, of: self, reason: reason, now: now).map { [$0] } ?? [] }
        return recipients.compactMap { text in
            guard let address = CalendarUserAddress(text), address.scheme == "mailto" else { return nil }
            return .iMIP(
                for: text, domain: address.domain ?? domain, messageID: messageID, originator: originator, body: body,
                reason: reason, now: now)
        }
    }
}
