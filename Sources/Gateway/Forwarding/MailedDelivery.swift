internal import Foundation
internal import ISchedule
internal import Logging
internal import Transport

/// Delivery by e-mail for our domains configured `delivery: imip` (their CalDAV server reads
/// invitations from mail, not iSchedule): each recipient gets the message as an RFC 6047 e-mail
/// to the local MTA (`imip:`), with an `Authentication-Results` header saying what the gateway
/// verified, so that a server that processes iMIP automatically can trust it. The e-mails are
/// committed to the queue (kind `mail`) before the answer 1.1; the queue worker sends them.
struct MailedDelivery: Sendable {
    let settings: GatewayConfiguration.IMIPSettings?
    let store: any DeliveryStore
    let clock: GatewayClock
    let logger: Logger

    /// - Parameter authentication: the result part of Authentication-Results (RFC 8601), e.g.
    ///   `dkim=pass header.d=example.com header.s=s1`.
    func deliver(
        _ request: ScheduleRequest, body: [UInt8], messageID: String, to indices: [Int],
        authentication: String
    ) async -> RecipientAnswers {
        let recipients = request.head.recipients
        guard let settings else { return RecipientAnswers(recipients: recipients, indices, .serviceUnavailable, "e-mail delivery is not configured") }
        var records: [NewDelivery] = []
        var answers = RecipientAnswers(recipients: recipients)
        for index in indices {
            guard let address = recipients[index].address else { continue }
            let submission: MailSubmission
            do {
                submission = try settings.mail(
                    calendar: body, message: request.message, originator: request.head.originator,
                    recipient: address, messageID: messageID, date: clock.seconds)
            } catch {
                answers.answer(index, .serviceCannotHandle, description: "cannot be put in an e-mail: \(error)")
                continue
            }
            let header = Array("Authentication-Results: \(settings.senderDomain); \(authentication)\r\n".utf8)
            records.append(
                NewDelivery(
                    kind: .mail, domain: address.domain ?? "", messageID: messageID, originator: request.head.originator.canonical,
                    recipients: [recipients[index].text], body: header + submission.message,
                    notBefore: clock.milliseconds()))
            answers.answer(index, .sent, description: "queued for e-mail to the local server")
        }
        guard !records.isEmpty else { return answers }
        do {
            _ = try await store.enqueue(records)
        } catch {
            logger.error("could not queue \(records.count) e-mail deliveries: \(error)")
            answers.answer(answers.filter { $0.status == .sent }.map(\.index), .serviceUnavailable, description: "could not be queued")
        }
        return answers
    }
}
