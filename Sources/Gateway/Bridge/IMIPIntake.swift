internal import DKIM
internal import Foundation
internal import ISchedule
internal import Logging
internal import Transport

/// The mail filter behind `imip-intake`: one e-mail as the MTA hands it over (Postfix `pipe(8)`,
/// Exim's pipe transport). When it carries an iTIP object from one of our domains, every envelope
/// recipient whose domain offers iSchedule gets it by iSchedule (queued durably, delivered and
/// signed by the running gateway); the other recipients, and every other message, go back to the
/// MTA unchanged. Queue first, then mail: a retry after a failure re-sends only the mail, since
/// the queued part is keyed on the message and committed once.
struct IMIPIntake: Sendable {
    let signingDomains: Set<String>
    let localDomains: Set<String>
    let discovery: ReceiverDiscovery
    let queue: any DeliveryStore
    let reinjection: any MailReinjection
    let clock: GatewayClock
    let logger: Logger

    /// The envelope: `-f SENDER` (empty for a bounce) and the recipients after `--`.
    struct Envelope: Sendable {
        var sender: String
        var recipients: [String]
    }

    enum Outcome: Sendable, Equatable {
        /// Done: these recipients were queued for iSchedule, these handed back to the MTA.
        case done(scheduled: [String], mailed: [String])
        /// Nothing lost; the MTA should try again later (sysexits 75).
        case temporaryFailure(String)
        /// The MTA's re-injection refused the message for good (sysexits 69: it bounces).
        case refused(String)
    }

    func process(_ received: [UInt8], envelope: Envelope) async -> Outcome {
        // Read, keyed and passed on with CRLF line ends, however the MTA handed it over.
        let message = Self.crlfLines(received)
        let mail = MailEntity(message[...])
        var scheduled: [String: [String]] = [:]
        var mailed = envelope.recipients
        if let plan = schedulingPlan(mail) {
            switch await route(envelope.recipients) {
            case .failure(let failure): return .temporaryFailure(failure.reason)
            case .success(let routes): (scheduled, mailed) = routes
            }
            if !scheduled.isEmpty, let failure = await enqueue(plan, to: scheduled) { return .temporaryFailure(failure) }
        }
        if !mailed.isEmpty {
            let refusal: SMTPError?
            do throws(SMTPError) {
                try await reinjection.reinject(MailSubmission(sender: envelope.sender, recipients: mailed, message: message))
                refusal = nil
            } catch {
                refusal = error
            }
            if let refusal {
                if case .rejected(let code, let text) = refusal, code >= 500 { return .refused("re-injection refused: \(code) \(text)") }
                return .temporaryFailure("re-injection: \(refusal)")
            }
        }
        let sent = scheduled.values.flatMap { $0 }.sorted()
        logger.info("imip-intake: \(sent.count) recipient(s) by iSchedule, \(mailed.count) by e-mail")
        return .done(scheduled: sent, mailed: mailed)
    }

    /// What goes by iSchedule, when anything may: an iTIP object (not free-busy, which iMIP never
    /// carries here) whose originator is in a domain we sign for, in a message the gateway did not
    /// write itself.
    private struct Plan {
        let calendar: [UInt8]
        let originator: CalendarUserAddress
        /// The same message and calendar again (an MTA retry) give the same key and id.
        let key: String
        let messageID: String
    }

    private func schedulingPlan(_ mail: MailEntity) -> Plan? {
        guard mail.header(IMIPMessage.loopGuardHeader) == nil, let calendar = CalendarInMail.find(in: mail),
              let itip = try? ITIPMessage(parsing: calendar), itip.componentType != "VFREEBUSY",
              let originator = itip.expectedOriginator, let domain = originator.domain, signingDomains.contains(domain)
        else { return nil }
        let digest = HashAlgorithm.sha256.digest(Array((mail.header("Message-ID") ?? "").utf8) + [0x0A] + calendar)
        let hex = digest.prefix(16).map { String(format: "%02x", $0) }.joined()
        return Plan(calendar: calendar, originator: originator, key: "imip-intake:\(hex)", messageID: "imip-\(hex)")
    }

    /// Envelope recipients by the way they go: iSchedule (by domain) or back to the MTA. A domain
    /// whose DNS cannot answer now makes the whole message wait (no e-mail in its place).
    private func route(_ recipients: [String]) async -> Result<(scheduled: [String: [String]], mailed: [String]), IntakeFailure> {
        var scheduled: [String: [String]] = [:], mailed: [String] = []
        var known: [String: Bool] = [:]
        for recipient in recipients {
            guard let at = recipient.lastIndex(of: "@") else { mailed.append(recipient); continue }
            let domain = recipient[recipient.index(after: at)...].lowercased()
            if localDomains.contains(domain) { mailed.append(recipient); continue }
            if known[domain] == nil {
                let located: Result<ReceiverDiscovery.Outcome, DNSError>
                do throws(DNSError) { located = .success(try await discovery.locate(domain: domain)) } catch { located = .failure(error) }
                switch located {
                case .success(.receivers): known[domain] = true
                case .success(.noISchedule): known[domain] = false
                case .failure(let error) where error.isTemporary:
                    return .failure(IntakeFailure("DNS for \(domain) did not answer (\(error)); the message waits"))
                case .failure: known[domain] = false
                }
            }
            if known[domain] == true { scheduled[domain, default: []].append(recipient) } else { mailed.append(recipient) }
        }
        return .success((scheduled, mailed))
    }

    /// One queue record per domain, all committed together once per message; nil when committed
    /// (now or by an earlier delivery of the same message), else why not.
    private func enqueue(_ plan: Plan, to scheduled: [String: [String]]) async -> String? {
        let now = clock.milliseconds()
        let records = scheduled.sorted { $0.key < $1.key }.map { domain, recipients in
            NewDelivery(kind: .iSchedule, domain: domain, messageID: plan.messageID, originator: plan.originator.text,
                        recipients: recipients.map { "mailto:\($0)" }, body: plan.calendar, notBefore: now)
        }
        do {
            if try await !queue.enqueueOnce(records, key: plan.key) {
                logger.notice("imip-intake: \(plan.messageID) was queued by an earlier delivery of this message; not again")
            }
            return nil
        } catch {
            return "the queue could not commit: \(error)"
        }
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

    private struct IntakeFailure: Error {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }
}

/// Hands a message back to the MTA (its re-injection service).
protocol MailReinjection: Sendable {
    func reinject(_ submission: MailSubmission) async throws(SMTPError)
}

extension SMTPClient: MailReinjection {
    func reinject(_ submission: MailSubmission) async throws(SMTPError) { try await send(submission) }
}
