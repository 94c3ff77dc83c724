internal import ISchedule

/// Who may cause a signature through the mail filter: an e-mail's calendar object is sent by
/// iSchedule, signed with our domain's key, only when the MTA's envelope sender is the calendar's
/// originator (the ORGANIZER, or the replying ATTENDEE) or one of `imip-intake.trusted-senders`
/// (a CalDAV server that sends every invitation from one system address, e.g. Nextcloud's), and
/// the originator is in one of our domains. Never for the null sender (a bounce). The envelope
/// sender is only as good as the MTA's submission path: the shipped Postfix lines let only the
/// CalDAV server submit there (deploy/postfix/master.cf).
enum SenderBinding {
    /// Nil when `sender` may cause a signature for `originator`, else why not (for the log).
    static func refusal(sender: String, originator: CalendarUserAddress, trustedSenders: Set<String>) -> String? {
        if sender.isEmpty { return "the null sender (a bounce) never causes a signature" }
        guard let mailbox = Mailbox(sender) else { return "envelope sender '\(sender)' is not a plain local@domain address" }
        if let calendar = originator.mailbox, calendar.text.lowercased() == mailbox.text.lowercased() { return nil }
        if trustedSenders.contains(mailbox.text.lowercased()) { return nil }
        return "envelope sender \(mailbox.text) is neither the calendar's originator \(originator.mailbox?.text ?? originator.text) "
            + "nor one of imip-intake.trusted-senders"
    }

    /// Whether a calendar without METHOD from `sender` is read as a REQUEST
    /// (`CalendarInMail.withInferredMethod`): only for the senders the administrator named in
    /// `imip-intake.infer-requests-from`. Such a server (Radicale) mails whatever event a user
    /// stores, whoever its ORGANIZER: naming it lets each of its users speak for every organizer.
    static func infersRequests(sender: String, from named: Set<String>) -> Bool {
        Mailbox(sender).map { named.contains($0.text.lowercased()) } ?? false
    }
}
