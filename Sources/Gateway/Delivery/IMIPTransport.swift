internal import ISchedule
internal import Transport

/// Delivers by e-mail (RFC 6047 iMIP): one message per recipient through the SMTP client. Answers
/// 1.1 once the mail server took it, 5.1 when it may take it later, 5.0 when it never will.
struct IMIPTransport: DeliveryTransport {
    let settings: GatewayConfiguration.IMIPSettings?
    let mailer: SMTPClient?
    let clock: GatewayClock

    /// Whether e-mail is configured at all (else recipients stay with their iSchedule answer).
    var isConfigured: Bool { settings != nil && mailer != nil }

    func deliver(_ message: DeliveryMessage, to indices: [Int]) async -> DeliveryAnswers {
        var answers: DeliveryAnswers = []
        for index in indices {
            let (status, description) = await send(message, to: message.recipients[index])
            answers += message.answers([index], status, description)
        }
        return answers
    }

    /// A stored, complete e-mail (kind `mail`) to its one recipient, as it is.
    func send(stored delivery: QueuedDelivery) async -> (RequestStatus, String) {
        guard let settings, let mailer else { return (.serviceCannotHandle, "iMIP is not configured") }
        guard let mailbox = delivery.recipients.first.flatMap(CalendarUserAddress.init).flatMap(IMIPMessage.mailbox) else {
            return (.serviceCannotHandle, "no mailbox to send to")
        }
        do {
            try await mailer.send(MailSubmission(sender: settings.from, recipients: [mailbox], message: delivery.body))
            return (.sent, "sent by e-mail")
        } catch {
            return (error.isTemporary ? .serviceUnavailable : .serviceCannotHandle, error.description)
        }
    }

    private func send(_ message: DeliveryMessage, to recipient: ScheduleRequestHead.Recipient) async -> (RequestStatus, String) {
        guard let settings, let mailer else { return (.serviceCannotHandle, "iMIP is not configured") }
        guard let address = recipient.address, let originator = CalendarUserAddress(message.originator) else {
            return (.serviceCannotHandle, "no usable addresses for e-mail")
        }
        let senderDomain = settings.from.split(separator: "@").last.map(String.init) ?? "localhost"
        let submission: MailSubmission
        do {
            // A stable Message-ID per message and recipient: a resend after a crash is recognisably the same mail.
            submission = try IMIPMessage.build(calendar: message.body, message: message.itip, originator: originator, recipient: address,
                                               sender: .init(address: settings.from, messageIDDomain: senderDomain), date: clock.seconds,
                                               messageID: "\(message.messageID).\(Fingerprint.of(address.normalized))")
        } catch {
            return (.serviceCannotHandle, "cannot build the e-mail: \(error)")
        }
        do {
            try await mailer.send(submission)
            return (.sent, "sent by e-mail")
        } catch {
            return (error.isTemporary ? .serviceUnavailable : .serviceCannotHandle, error.description)
        }
    }
}
