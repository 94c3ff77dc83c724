internal import DKIM
internal import Foundation
internal import ISchedule
internal import Logging
internal import Transport

/// The mail filter hands the recipients it does not send by iSchedule back to the MTA, at once.
/// When the MTA refuses for good, each recipient is tried alone (libcurl gives up on a whole
/// submission when one RCPT is refused), so that one unacceptable address does not take the
/// others down: the accepted ones are done, the refused ones get our bounce (to a non-null
/// sender), and those the MTA could not take right now are queued for the worker. Only when
/// nothing of the message is ours and the MTA refused every recipient does the MTA bounce the
/// batch itself (sysexits 69).
struct IntakeHandBack: Sendable {
    let reinjection: any MailReinjection
    let queue: any DeliveryStore
    let reportingHost: String
    let clock: GatewayClock
    let logger: Logger

    enum Result: Sendable, Equatable {
        /// Every recipient taken back, or settled: `bounced` get our bounce, `deferred` are queued.
        case settled(bounced: [String], deferred: [String])
        /// Try the whole batch again later (75): nothing was taken back.
        case temporary(String)
        /// The MTA refused every recipient and nothing of the message is ours (69).
        case refused(String)
    }

    /// - Parameter anyScheduled: whether any recipient of the message is (now or before) queued for iSchedule.
    func handBack(_ recipients: [String], sender: String, message: [UInt8], anyScheduled: Bool) async -> Result {
        guard !recipients.isEmpty else { return .settled(bounced: [], deferred: []) }
        let whole = await submit(recipients, sender: sender, message: message)
        guard case .failure(let error) = whole else { return .settled(bounced: [], deferred: []) }
        guard let refused = Reinjection.refusal(error) else { return .temporary("re-injection: \(error)") }
        if recipients.count == 1 && !anyScheduled { return .refused("re-injection refused: \(refused.code) \(refused.text)") }
        var bounced: [(recipient: String, code: Int, text: String)] = []
        var deferred: [String] = []
        var accepted = 0
        for recipient in recipients {
            switch await submit([recipient], sender: sender, message: message) {
            case .success: accepted += 1
            case .failure(let error):
                if let refusal = Reinjection.refusal(error) {
                    bounced.append((recipient, refusal.code, refusal.text))
                } else {
                    deferred.append(recipient)
                }
            }
        }
        if !anyScheduled && accepted == 0 && deferred.isEmpty { return .refused("re-injection refused: \(refused.code) \(refused.text)") }
        if let failure = await commit(bounced: bounced, deferred: deferred, sender: sender, message: message) { return .temporary(failure) }
        return .settled(bounced: bounced.map(\.recipient), deferred: deferred)
    }

    private func submit(_ recipients: [String], sender: String, message: [UInt8]) async -> Swift.Result<Void, SMTPError> {
        await Swift.Result { () async throws(SMTPError) -> Void in
            try await reinjection.reinject(MailSubmission(sender: sender, recipients: recipients, message: message))
        }
    }

    /// Our bounce for the refused, a queued re-injection for the deferred, in one transaction,
    /// once per (message, recipients); nil once committed.
    private func commit(
        bounced: [(recipient: String, code: Int, text: String)], deferred: [String], sender: String,
        message: [UInt8]
    ) async -> String? {
        let now = clock.milliseconds()
        let key = Self.hex(
            HashAlgorithm.sha256.digest(message + Array((bounced.map(\.recipient) + deferred).sorted().joined(separator: "\n").utf8))
                .prefix(16))
        var records: [NewDelivery] = []
        if !deferred.isEmpty {
            records.append(
                NewDelivery(
                    kind: .reinject, domain: "", messageID: "return-\(key)", originator: "", recipients: deferred, body: message,
                    notBefore: now, lastError: "the MTA could not take it back at once", envelopeSender: sender))
        }
        if !bounced.isEmpty {
            if let mailbox = Mailbox(sender) {
                let failures = bounced.map {
                    DeliveryStatusNotification.Failure(
                        recipient: $0.recipient, status: DeliveryStatusNotification.status(code: $0.code, text: $0.text),
                        diagnostic: "\($0.code) \($0.text)")
                }
                let notice = DeliveryStatusNotification.build(
                    reportingHost: reportingHost, sender: mailbox, failures: failures, original: message,
                    arrival: now / 1000, now: now / 1000, messageID: "dsn-\(key)")
                records.append(
                    NewDelivery(
                        kind: .reinject, domain: mailbox.domain, messageID: "dsn-\(key)", originator: "mailto:\(mailbox.text)",
                        recipients: notice.recipients, body: notice.message, notBefore: now,
                        lastError: "re-injection refused", envelopeSender: notice.sender))
            } else {
                logger.warning(
                    "imip-intake: the MTA refused \(bounced.map(\.recipient).joined(separator: ", ")) of a bounce (null sender); not bounced again")
            }
        }
        guard !records.isEmpty else { return nil }
        do {
            _ = try await queue.enqueueNew(records, submission: "imip-intake-return:\(key)")
            return nil
        } catch {
            return "the queue could not commit: \(error)"
        }
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}
