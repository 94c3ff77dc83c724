internal import DKIM
internal import Foundation
internal import ISchedule
internal import Logging
internal import Transport

/// The mail filter behind `imip-intake`: one e-mail as the MTA hands it over (Postfix `pipe(8)`,
/// Exim's pipe transport), possibly one of several batches of its recipients. When it carries an
/// iTIP object from one of our domains, every envelope recipient whose domain offers iSchedule
/// gets it by iSchedule (queued durably, delivered and signed by the running gateway); the other
/// recipients, and every other message, go back to the MTA unchanged. Queue first, then mail: a
/// retry after a failure re-sends only the mail, since each (message, recipient) is committed
/// once. A queued recipient iSchedule does not deliver gets the original e-mail after all, or its
/// sender a bounce (`Reinjection`): once accepted, every recipient is delivered or bounced.
struct IMIPIntake: Sendable {
    let signingDomains: Set<String>
    let localDomains: Set<String>
    /// `imip-intake.trusted-senders`, lower case (`SenderBinding`).
    var trustedSenders: Set<String> = []
    /// `imip-intake.infer-requests-from`, lower case (`SenderBinding.infersRequests`).
    var inferRequestsFrom: Set<String> = []
    /// The organizers' own calendars, where every calendar from those senders is confirmed.
    var organizerCopies: (any OrganizerCopies)?
    let discovery: ReceiverDiscovery
    let queue: any DeliveryStore
    let reinjection: any MailReinjection
    let reportingHost: String
    let clock: GatewayClock
    let logger: Logger

    /// The envelope: `-f SENDER` (empty for a bounce) and the recipients after `--`.
    struct Envelope: Sendable {
        var sender: String
        var recipients: [String]
    }

    enum Outcome: Sendable, Equatable {
        /// Done: these recipients were queued for iSchedule, these handed back to the MTA, these
        /// refused by it and bounced by us (a DSN queued).
        case done(scheduled: [String], mailed: [String], bounced: [String] = [])
        /// Nothing lost; the MTA should try again later (sysexits 75).
        case temporaryFailure(String)
        /// The MTA's re-injection refused the message for good (sysexits 69: it bounces).
        case refused(String)
    }

    func process(_ received: [UInt8], envelope: Envelope) async -> Outcome {
        // Read, keyed and passed on with CRLF line ends, however the MTA handed it over.
        let message = LineEnds.crlf(received)
        let mail = MailEntity(message[...])
        var sent: [String] = []
        var mailed = envelope.recipients
        switch await schedulingPlan(mail, message: message, sender: envelope.sender) {
        case .later(let reason): return .temporaryFailure(reason)
        case .none: break
        case .plan(let plan):
            // A recipient an earlier delivery of this message committed stays with that decision.
            let earlier: Set<String>
            do {
                earlier = try await queue.committedRecipients(submission: plan.submission, among: envelope.recipients.compactMap(Self.queued))
            } catch {
                return .temporaryFailure("the queue could not be read: \(error)")
            }
            let open = envelope.recipients.filter { Self.queued($0).map { !earlier.contains($0) } ?? true }
            let (eligible, others) = plan.partition(open)
            let (scheduled, back) = await route(eligible)
            if !scheduled.isEmpty, let failure = await enqueue(plan, to: scheduled) { return .temporaryFailure(failure) }
            sent = (scheduled.values.flatMap { $0.map(\.text) } + earlier.map { String($0.dropFirst("mailto:".count)) }).sorted()
            mailed = open.filter { back.contains($0) || others.contains($0) }
        }
        let handBack = IntakeHandBack(reinjection: reinjection, queue: queue, reportingHost: reportingHost, clock: clock, logger: logger)
        switch await handBack.handBack(mailed, sender: envelope.sender, message: message, anyScheduled: !sent.isEmpty) {
        case .temporary(let reason): return .temporaryFailure(reason)
        case .refused(let reason): return .refused(reason)
        case .settled(let bounced, let deferred):
            mailed.removeAll { bounced.contains($0) }
            if !deferred.isEmpty { logger.notice("imip-intake: \(deferred.count) recipient(s) queued to be handed back to the MTA later") }
            logger.info("imip-intake: \(sent.count) recipient(s) by iSchedule, \(mailed.count) by e-mail, \(bounced.count) bounced")
            return .done(scheduled: sent, mailed: mailed, bounced: bounced)
        }
    }

    /// An envelope recipient as a mail-filter record lists it (`mailto:` and the parsed mailbox).
    private static func queued(_ recipient: String) -> String? { Mailbox(recipient).map { "mailto:\($0.text)" } }

    /// What goes by iSchedule, when anything may: an iTIP object (not free-busy, which iMIP never
    /// carries here) whose originator is in a domain we sign for, in a message the gateway did not
    /// write itself.
    private struct Plan {
        var calendar: [UInt8]
        let originator: CalendarUserAddress
        /// The same message again (an MTA retry, another batch of its recipients) gives the same
        /// key; for an organizer's copy, the same copy does (a user cannot have it sent again).
        var submission: String
        let message: [UInt8]
        let sender: String
        /// The only recipients it may go to by iSchedule (lower-case mailboxes), when limited:
        /// the attendees of the organizer's own copy.
        var onlyTo: Set<String>?

        /// The recipients it may go to by iSchedule, and the others (back to the MTA).
        func partition(_ recipients: [String]) -> (eligible: [String], others: [String]) {
            guard let onlyTo else { return (recipients, []) }
            let eligible = recipients.filter { Mailbox($0).map { onlyTo.contains($0.text.lowercased()) } ?? false }
            return (eligible, recipients.filter { !eligible.contains($0) })
        }
    }

    private enum Planning {
        case none
        case plan(Plan)
        /// The organizer's calendars could not be read now: the MTA keeps the message.
        case later(String)
    }

    private func schedulingPlan(_ mail: MailEntity, message: [UInt8], sender: String) async -> Planning {
        let inferring = SenderBinding.infersRequests(sender: sender, from: inferRequestsFrom)
        guard mail.header(IMIPMessage.loopGuardHeader) == nil,
            let found = CalendarInMail.find(in: mail).map({ inferring ? CalendarInMail.withInferredMethod($0) : $0 }),
            case let mailed = LineEnds.endingInCRLF(found), let itip = try? ITIPMessage(parsing: mailed), itip.componentType != "VFREEBUSY",
            let originator = itip.expectedOriginator, let domain = originator.domain, signingDomains.contains(domain)
        else { return .none }
        let messageID = mail.header("Message-ID") ?? "none"
        if let refusal = SenderBinding.refusal(sender: sender, originator: originator, trustedSenders: trustedSenders) {
            logger.warning("imip-intake: not sent by iSchedule, back to the MTA as e-mail: \(refusal) (Message-ID \(messageID))")
            return .none
        }
        let digest = HashAlgorithm.sha256.digest(Array((mail.header("Message-ID") ?? "").utf8) + [0x0A] + mailed)
        var plan = Plan(
            calendar: mailed, originator: originator, submission: "imip-intake:\(IntakeHandBack.hex(digest.prefix(16)))", message: message,
            sender: sender)
        guard inferring else { return .plan(plan) }
        // Such a server vouches for no organizer: only the organizer's own copy goes, to its attendees.
        switch await organizersCopy(of: itip, organizer: originator) {
        case .failure(let failure): return .later(failure.reason)
        case .success(nil):
            let uid = itip.uid ?? "none"
            logger.warning(
                "imip-intake: not sent by iSchedule, back to the MTA as e-mail: \(originator.text)'s calendars (imip-intake.organizer-calendars) hold no such event (UID \(uid)) as a REQUEST (Message-ID \(messageID))"
            )
            return .none
        case .success(let confirmed?):
            let copy = HashAlgorithm.sha256.digest(Array("organizer-copy\n".utf8) + confirmed.calendar)
            (plan.calendar, plan.onlyTo) = (confirmed.calendar, confirmed.attendees)
            plan.submission = "imip-intake:\(IntakeHandBack.hex(copy.prefix(16)))"
            return .plan(plan)
        }
    }

    /// The organizer's own copy of a mailed REQUEST (`OrganizerCopy.confirmed`); nil when there
    /// is none, a failure when the calendars cannot be read now.
    private func organizersCopy(of itip: ITIPMessage, organizer: CalendarUserAddress) async -> Result<OrganizerCopy.Confirmed?, ReadLater> {
        guard itip.method == .request, let uid = itip.uid, OrganizerCopy.isSearchable(uid: uid), let mailbox = organizer.mailbox, let organizerCopies
        else { return .success(nil) }
        switch await organizerCopies.copies(uid: uid, of: mailbox) {
        case .unavailable(let reason): return .failure(ReadLater(reason: "the organizer's calendars could not be read: \(reason)"))
        case .found(let objects): return .success(OrganizerCopy.confirmed(uid: uid, organizer: organizer, among: objects))
        }
    }

    private struct ReadLater: Error, CustomStringConvertible {
        let reason: String
        var description: String { reason }
    }

    /// Envelope recipients by the way they go: iSchedule (by domain) or back to the MTA. An
    /// address that is not a plain `local@domain` goes back to the MTA as it came. A domain whose
    /// DNS cannot answer now is queued for iSchedule all the same: the worker asks again, and
    /// hands the original e-mail back if it has no iSchedule after all (one bad domain never
    /// holds up the batch).
    private func route(_ recipients: [String]) async -> (scheduled: [String: [Mailbox]], mailed: [String]) {
        var scheduled: [String: [Mailbox]] = [:]
        var mailed: [String] = []
        var known: [String: Bool] = [:]
        for recipient in recipients {
            guard let mailbox = Mailbox(recipient), !localDomains.contains(mailbox.domain) else {
                mailed.append(recipient)
                continue
            }
            let domain = mailbox.domain
            if known[domain] == nil {
                switch await Result(awaiting: { () async throws(DNSError) -> ReceiverDiscovery.Outcome in try await discovery.locate(domain: domain) }
                ) {
                case .success(.receivers): known[domain] = true
                case .success(.noISchedule): known[domain] = false
                case .failure(let error): known[domain] = error.isTemporary
                }
            }
            if known[domain] == true { scheduled[domain, default: []].append(mailbox) } else { mailed.append(recipient) }
        }
        return (scheduled, mailed)
    }

    /// One queue record per domain, committed together, each with only the recipients no earlier
    /// delivery of this message committed; nil when committed, else why not. A record's
    /// iSchedule-Message-ID names its recipients too: batches of one message are distinct
    /// requests to a receiver's replay cache.
    private func enqueue(_ plan: Plan, to scheduled: [String: [Mailbox]]) async -> String? {
        let now = clock.milliseconds()
        let records = scheduled.sorted { $0.key < $1.key }.map { domain, mailboxes in
            let recipients = mailboxes.map { "mailto:\($0.text)" }
            let id = HashAlgorithm.sha256.digest(Array(([plan.submission, domain] + recipients.sorted()).joined(separator: "\n").utf8))
            return NewDelivery(
                kind: .iSchedule, domain: domain, messageID: "imip-\(IntakeHandBack.hex(id.prefix(16)))", originator: plan.originator.canonical,
                recipients: recipients, body: plan.calendar, notBefore: now, envelopeSender: plan.sender,
                originalMail: plan.message)
        }
        do {
            let committed = try await queue.enqueueNew(records, submission: plan.submission).reduce(0) { $0 + $1.recipients.count }
            let all = records.reduce(0) { $0 + $1.recipients.count }
            if committed < all {
                logger.notice("imip-intake: \(all - committed) of \(all) recipient(s) were queued by an earlier delivery of this message; not again")
            }
            return nil
        } catch {
            return "the queue could not commit: \(error)"
        }
    }
}
