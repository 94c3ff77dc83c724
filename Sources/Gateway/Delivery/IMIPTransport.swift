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

    func deliver(_ message: DeliveryMessage, to indices: [Int]) async -> RecipientAnswers {
        var answers = message.noAnswers
        for index in indices {
            let (status, description) = await send(message, to: message.recipients[index])
            answers.answer(index, status, description: description)
        }
        return answers
    }

    /// A complete e-mail to one mailbox, as it is (a stored `mail` record's).
    func send(_ mail: [UInt8], to mailbox: Mailbox) async -> (RequestStatus, String) {
        guard let settings, let mailer else { return (.serviceCannotHandle, "iMIP is not configured") }
        return await submit(MailSubmission(sender: settings.from, recipients: [mailbox.text], message: mail), with: mailer)
    }

    private func send(_ message: DeliveryMessage, to recipient: ScheduleRequestHead.Recipient) async -> (RequestStatus, String) {
        guard let settings, let mailer else { return (.serviceCannotHandle, "iMIP is not configured") }
        guard let address = recipient.address, let originator = CalendarUserAddress(message.originator) else {
            return (.serviceCannotHandle, "no usable addresses for e-mail")
        }
        let submission: MailSubmission
        do {
            submission = try settings.mail(
                calendar: message.body, message: message.itip, originator: originator, recipient: address,
                messageID: message.messageID, date: clock.seconds)
        } catch {
            return (.serviceCannotHandle, "cannot build the e-mail: \(error)")
        }
        return await submit(submission, with: mailer)
    }

    /// 1.1 once the mail server took it; 5.1 when it may later, 5.0 when it never will.
    private func submit(_ submission: MailSubmission, with mailer: SMTPClient) async -> (RequestStatus, String) {
        do {
            try await mailer.send(submission)
            return (.sent, "sent by e-mail")
        } catch {
            return (error.isTemporary ? .serviceUnavailable : .serviceCannotHandle, error.description)
        }
    }
}

extension GatewayConfiguration.IMIPSettings {
    /// The domain of `from`: the right-hand side of the gateway's Message-IDs, and its authserv-id.
    var senderDomain: String { from.split(separator: "@").last.map(String.init) ?? "localhost" }

    /// The RFC 6047 e-mail of a scheduling message for one recipient, from `from`. The Message-ID
    /// is stable per message and recipient: a resend after a crash is recognisably the same mail.
    func mail(
        calendar: [UInt8], message: ITIPMessage, originator: CalendarUserAddress, recipient: CalendarUserAddress,
        messageID: String, date: Int64
    ) throws(IMIPMessage.BuildError) -> MailSubmission {
        try IMIPMessage.build(
            calendar: calendar, message: message, originator: originator, recipient: recipient,
            sender: .init(address: from, messageIDDomain: senderDomain), date: date,
            messageID: "\(messageID).\(Fingerprint.of(recipient.normalized))")
    }
}
