internal import ISchedule

extension QueuedDelivery {
    /// What takes `recipients` on when iSchedule will not: a mail-filter record's original e-mail,
    /// back to the MTA (one `reinject` record), else one iMIP record per `mailto:` recipient.
    func fallbackRecords(for recipients: [String], reason: String?, now: Int64) -> [NewDelivery] {
        guard originalMail == nil else { return Reinjection.record(returning: recipients, of: self, reason: reason, now: now).map { [$0] } ?? [] }
        return iMIPRecords(for: recipients, reason: reason, now: now)
    }

    /// One iMIP record per `mailto:` recipient among `recipients`, carrying this record's message.
    private func iMIPRecords(for recipients: [String], reason: String?, now: Int64) -> [NewDelivery] {
        recipients.compactMap { text in
            guard let address = CalendarUserAddress(text), address.scheme == "mailto" else { return nil }
            return NewDelivery(kind: .iMIP, domain: address.domain ?? domain, messageID: messageID, originator: originator,
                               recipients: [text], body: body, notBefore: now, lastError: reason)
        }
    }
}

/// What `queue force-imip` did.
public enum ForceIMIPOutcome: Sendable, Equatable {
    case handedOff(recipients: Int)
    case noSuchDelivery
    /// Why this record cannot go to e-mail now.
    case refused(String)
}

extension QueueInspector {
    /// Sends a waiting, held or failed iSchedule record's recipients by e-mail (iMIP) now: one iMIP
    /// record per `mailto:` recipient, committed with the record's hand-off in one transaction.
    public func forceIMIP(_ id: Int64, now: Int64) async throws -> ForceIMIPOutcome {
        guard let record = try await delivery(id) else { return .noSuchDelivery }
        guard record.kind == .iSchedule else { return .refused("delivery \(id) is already an iMIP record") }
        guard [.pending, .held, .failed].contains(record.state) else {
            return .refused("delivery \(id) is \(record.state.rawValue), not pending, held or failed")
        }
        let records = record.fallbackRecords(for: record.recipients, reason: "sent by e-mail on the administrator's request", now: now)
        guard !records.isEmpty else { return .refused("delivery \(id) has no mailto: recipient") }
        guard try await handOff(id, to: records, now: now) else {
            return .refused("delivery \(id) is being attempted right now; try again in a moment")
        }
        return .handedOff(recipients: records.count)
    }
}
