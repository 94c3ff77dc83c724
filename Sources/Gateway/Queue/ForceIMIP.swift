internal import ISchedule

/// What `queue force-imip` did.
package enum ForceIMIPOutcome: Sendable, Equatable {
    case handedOff(recipients: Int)
    case noSuchDelivery
    /// Why this record cannot go to e-mail now.
    case refused(String)
}

extension QueueInspector {
    /// Sends a waiting, held or failed iSchedule record's recipients by e-mail (iMIP) now: one iMIP
    /// record per `mailto:` recipient, committed with the record's hand-off in one transaction.
    package func forceIMIP(_ id: Int64, now: Int64) async throws -> ForceIMIPOutcome {
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
