internal import Foundation
internal import ISchedule
internal import Transport

/// Hands a message back to the MTA (its filter-free re-injection service, `imip-intake.reinject-url`).
protocol MailReinjection: Sendable {
    func reinject(_ submission: MailSubmission) async throws(SMTPError)
}

extension SMTPClient: MailReinjection {
    func reinject(_ submission: MailSubmission) async throws(SMTPError) { try await send(submission) }
}

/// The mail filter's promise kept: a recipient taken out of the e-mail path is delivered by
/// iSchedule, or gets the original e-mail after all (re-injected into the MTA, which delivers or
/// bounces it by its own rules), or its envelope sender gets a bounce (RFC 3464) from us. Works
/// the queue's `reinject` records; only a 5xx reply is a refusal, anything else is tried again.
struct Reinjection: Sendable {
    /// Nil when this gateway's configuration has no `imip-intake` section: records wait for one.
    let mta: (any MailReinjection)?
    /// The gateway's host name (bounces' Reporting-MTA).
    let reportingHost: String
    let clock: GatewayClock

    /// A refusal for good: the MTA's 5xx reply, or an address SMTP cannot carry (as 501 would).
    static func refusal(_ error: SMTPError) -> (code: Int, text: String)? {
        switch error {
        case .rejected(let code, let text) where (500..<600).contains(code): (code, text)
        case .invalidSubmission(let detail): (501, "5.1.3 \(detail)")
        default: nil
        }
    }

    /// The record that hands `recipients` (mailto: addresses) of a mail-filter record back to
    /// the MTA as the original e-mail; nil when none of them is a mailbox.
    static func record(returning recipients: [String], of delivery: QueuedDelivery, reason: String?, now: Int64) -> NewDelivery? {
        guard let original = delivery.originalMail else { return nil }
        let mailboxes = recipients.compactMap { CalendarUserAddress($0).flatMap(\.mailbox)?.text }
        guard !mailboxes.isEmpty else { return nil }
        return NewDelivery(
            kind: .reinject, domain: delivery.domain, messageID: delivery.messageID, originator: delivery.originator,
            recipients: mailboxes, body: original, notBefore: now, lastError: reason,
            envelopeSender: delivery.envelopeSender ?? "")
    }

    /// One attempt of a `reinject` record, and what follows from it.
    func attempt(_ record: QueuedDelivery, policy: DeliveryPolicy) async -> DeliveryUpdate {
        let now = clock.milliseconds()
        guard let mta else {
            return retryOrBounce(record, reason: "no imip-intake.reinject-url in this gateway's configuration", policy: policy, now: now)
        }
        let sent = await Result { () async throws(SMTPError) -> Void in
            try await mta.reinject(MailSubmission(sender: record.envelopeSender ?? "", recipients: record.recipients, message: record.body))
        }
        guard case .failure(let failure) = sent else { return DeliveryUpdate(state: .delivered, outcome: "handed back to the MTA") }
        guard let refused = Self.refusal(failure) else { return retryOrBounce(record, reason: failure.description, policy: policy, now: now) }
        if record.recipients.count > 1 {
            // libcurl gives up on the whole submission when one RCPT is refused: try each alone,
            // so only the refused ones are bounced.
            let singles = record.recipients.map { recipient in
                NewDelivery(
                    kind: .reinject, domain: record.domain, messageID: record.messageID, originator: record.originator,
                    recipients: [recipient], body: record.body, notBefore: now, lastError: failure.description,
                    envelopeSender: record.envelopeSender)
            }
            return DeliveryUpdate(state: .handedOff, error: failure.description, outcome: "tried one recipient at a time", spawn: singles)
        }
        let status = DeliveryStatusNotification.status(code: refused.code, text: refused.text)
        return bounce(record, status: status, diagnostic: "\(refused.code) \(refused.text)", now: now)
    }

    /// A temporary failure: tried again (`DeliveryPolicy.disposition`), bounced once exhausted.
    private func retryOrBounce(_ record: QueuedDelivery, reason: String, policy: DeliveryPolicy, now: Int64) -> DeliveryUpdate {
        let attempt = DeliveryPolicy.Attempt(route: .email, attempts: record.attempts + 1, createdAt: record.createdAt, bounces: true)
        guard case .retry(let at) = policy.disposition(.serviceUnavailable, after: attempt, hasMailbox: true, now: now) else {
            return bounce(record, status: "4.4.7", diagnostic: "gave up: \(reason)", now: now)
        }
        return DeliveryUpdate(state: .pending, nextAttemptAt: at, error: reason)
    }

    /// Fails the record and, unless it had no sender to tell (a bounce itself), spawns the bounce.
    private func bounce(_ record: QueuedDelivery, status: String, diagnostic: String, now: Int64) -> DeliveryUpdate {
        let failures = record.recipients.map {
            DeliveryStatusNotification.Failure(recipient: $0, status: status, diagnostic: diagnostic)
        }
        guard let sender = record.envelopeSender.flatMap(Mailbox.init), !failures.isEmpty else {
            return DeliveryUpdate(state: .failed, error: "\(diagnostic); no sender to tell (a bounce is never bounced)")
        }
        let notice = DeliveryStatusNotification.build(
            reportingHost: reportingHost, sender: sender, failures: failures, original: record.body, arrival: record.createdAt / 1000,
            now: now / 1000, messageID: "dsn-\(record.id)-\(now)")
        let dsn = NewDelivery(
            kind: .reinject, domain: sender.domain, messageID: record.messageID, originator: record.originator,
            recipients: notice.recipients, body: notice.message, notBefore: now, lastError: diagnostic,
            envelopeSender: notice.sender)
        return DeliveryUpdate(state: .failed, error: diagnostic, outcome: "bounced to \(sender.text)", spawn: [dsn])
    }
}
