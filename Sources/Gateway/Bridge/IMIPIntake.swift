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
        let message = Self.crlfLines(received)
        let mail = MailEntity(message[...])
        var sent: [String] = []
        var mailed = envelope.recipients
        if let plan = schedulingPlan(mail, message: message, sender: envelope.sender) {
            // A recipient an earlier delivery of this message committed stays with that decision.
            let earlier: Set<String>
            do {
                earlier = try await queue.committedRecipients(submission: plan.submission, among: envelope.recipients.compactMap(Self.queued))
            } catch {
                return .temporaryFailure("the queue could not be read: \(error)")
            }
            let (scheduled, back) = await route(envelope.recipients.filter { Self.queued($0).map { !earlier.contains($0) } ?? true })
            if !scheduled.isEmpty, let failure = await enqueue(plan, to: scheduled) { return .temporaryFailure(failure) }
            sent = (scheduled.values.flatMap { $0.map(\.text) } + earlier.map { String($0.dropFirst("mailto:".count)) }).sorted()
            mailed = back
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
        let calendar: [UInt8]
        let originator: CalendarUserAddress
        /// The same message again (an MTA retry, another batch of its recipients) gives the same key.
        let submission: String
        let message: [UInt8]
        let sender: String
    }

    private func schedulingPlan(_ mail: MailEntity, message: [UInt8], sender: String) -> Plan? {
        let inferring = SenderBinding.infersRequests(sender: sender, from: inferRequestsFrom)
        guard mail.header(IMIPMessage.loopGuardHeader) == nil,
            let found = CalendarInMail.find(in: mail).map({ inferring ? CalendarInMail.withInferredMethod($0) : $0 }),
            case let calendar = Self.endingInCRLF(found), let itip = try? ITIPMessage(parsing: calendar), itip.componentType != "VFREEBUSY",
            let originator = itip.expectedOriginator, let domain = originator.domain, signingDomains.contains(domain)
        else { return nil }
        if let refusal = SenderBinding.refusal(sender: sender, originator: originator, trustedSenders: trustedSenders) {
            logger.warning(
                "imip-intake: not sent by iSchedule, back to the MTA as e-mail: \(refusal) (Message-ID \(mail.header("Message-ID") ?? "none"))")
            return nil
        }
        let digest = HashAlgorithm.sha256.digest(Array((mail.header("Message-ID") ?? "").utf8) + [0x0A] + calendar)
        return Plan(
            calendar: calendar, originator: originator, submission: "imip-intake:\(IntakeHandBack.hex(digest.prefix(16)))", message: message,
            sender: sender)
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

    /// A calendar as RFC 5545 wants it: the last content line ends in CRLF too.
    static func endingInCRLF(_ calendar: [UInt8]) -> [UInt8] {
        var trimmed = calendar[...]
        while let last = trimmed.last, last == 0x0D || last == 0x0A || last == 0x20 || last == 0x09 { trimmed = trimmed.dropLast() }
        return Array(trimmed) + [0x0D, 0x0A]
    }

    /// The message with CRLF line ends, as SMTP carries it: pipes hand it over with bare LF
    /// (Postfix's `pipe(8)`), which sent as it is would end in an extra blank line.
    static func crlfLines(_ message: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(message.count + message.count / 40)
        var previous: UInt8 = 0
        for byte in message {
            if byte == 0x0A && previous != 0x0D { output.append(0x0D) }
            output.append(byte)
            previous = byte
        }
        return output
    }
}
