internal import Foundation
internal import ISchedule
internal import Transport

/// Sends one iMIP record: the RFC 6047 message for its one recipient, through the SMTP client.
struct IMIPSender: Sendable {
    let runtime: GatewayRuntime

    enum Result: Sendable {
        case sent
        case temporary(String)
        case permanent(String)
    }

    func send(_ delivery: QueuedDelivery) async -> Result {
        guard let imip = runtime.configuration.imip, let mailer = runtime.mailer else {
            return .permanent("iMIP is not configured")
        }
        guard let recipientText = delivery.recipients.first, let recipient = CalendarUserAddress(recipientText),
              let originator = CalendarUserAddress(delivery.originator) else {
            return .permanent("stored record has no usable addresses")
        }
        let message: ITIPMessage
        do { message = try ITIPMessage(parsing: delivery.body) } catch { return .permanent("stored message: \(error)") }
        let senderDomain = imip.from.split(separator: "@").last.map(String.init) ?? "localhost"
        let submission: MailSubmission
        do {
            // A stable Message-ID per record: a resend after a crash is recognisably the same mail.
            submission = try IMIPMessage.build(calendar: delivery.body, message: message, originator: originator, recipient: recipient,
                                               sender: .init(address: imip.from, messageIDDomain: senderDomain),
                                               date: runtime.nowMilliseconds() / 1000, messageID: "\(delivery.messageID).\(delivery.id)")
        } catch {
            return .permanent("cannot build the e-mail: \(error)")
        }
        do {
            try await mailer.send(submission)
            return .sent
        } catch {
            return error.isTemporary ? .temporary(error.description) : .permanent(error.description)
        }
    }
}
