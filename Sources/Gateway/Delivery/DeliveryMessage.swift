internal import ISchedule

/// One scheduling message on its way out, built once (by the outbound intake from the parsed
/// request, by the queue worker from a stored record) and carried unchanged through every
/// transport: no transport re-reads headers or re-parses the calendar.
struct DeliveryMessage: Sendable {
    let originator: String
    let originatorDomain: String?
    let recipients: [ScheduleRequestHead.Recipient]
    let itip: ITIPMessage
    var messageID: String
    let body: [UInt8]

    init(request: ScheduleRequest, body: [UInt8], messageID: String) {
        originator = request.head.originator.canonical
        originatorDomain = request.head.originator.domain
        recipients = request.head.recipients
        itip = request.message
        self.messageID = messageID
        self.body = body
    }

    /// A stored message: its calendar is parsed (and its originator checked) here, once.
    init(originator: String, recipients: [String], body: [UInt8], messageID: String) throws(IScheduleError) {
        guard let address = CalendarUserAddress(originator) else {
            throw IScheduleError(.originatorInvalid, "stored Originator '\(originator)' is not a calendar user address")
        }
        itip = try ITIPMessage(parsing: body)
        try itip.checkOriginator(address)
        self.originator = originator
        originatorDomain = address.domain
        self.recipients = recipients.map(ScheduleRequestHead.Recipient.init)
        self.messageID = messageID
        self.body = body
    }

    var component: String { itip.componentType }
    var method: String { itip.method.rawValue }
    var isFreeBusy: Bool { itip.componentType == "VFREEBUSY" }
    var contentType: String { "text/calendar; charset=utf-8; component=\(component); method=\(method)" }

    /// No answers yet, for this message's recipients.
    var noAnswers: RecipientAnswers { RecipientAnswers(recipients: recipients) }

    /// The same status and description for every recipient in `indices`.
    func answers(_ indices: some Sequence<Int>, _ status: RequestStatus, _ description: String) -> RecipientAnswers {
        RecipientAnswers(recipients: recipients, indices, status, description)
    }
}

/// A way out for a message: iSchedule to the recipients' receivers, or iMIP e-mail. Each answers
/// every recipient it was given; `DeliveryPolicy.disposition` tells what each answer means.
protocol DeliveryTransport: Sendable {
    func deliver(_ message: DeliveryMessage, to recipients: [Int]) async -> RecipientAnswers
    /// The same, telling `answered` each group of answers as soon as it is known.
    func deliver(
        _ message: DeliveryMessage, to recipients: [Int],
        answered: @escaping @Sendable (RecipientAnswers) async -> Void
    ) async -> RecipientAnswers
}

extension DeliveryTransport {
    func deliver(
        _ message: DeliveryMessage, to recipients: [Int],
        answered: @escaping @Sendable (RecipientAnswers) async -> Void
    ) async -> RecipientAnswers {
        let all = await deliver(message, to: recipients)
        await answered(all)
        return all
    }
}
