import FuzzSupport
import ISchedule

// Calendar user addresses (Originator, Recipient, ORGANIZER, ATTENDEE, the mail envelope): one
// reading everywhere. The byte-level and the Character-level readings must agree, and what is
// written back must read as the same address.
FuzzDriver.run { bytes in
    let text = String(decoding: bytes, as: UTF8.self)
    if let address = CalendarUserAddress(text) {
        _ = address.domain
        let written = address.canonical
        guard let again = CalendarUserAddress(written), again == address, again.canonical == written else {
            fatalError("'\(written)' does not read back as the address it was written from")
        }
    }
    if let mailbox = Mailbox(text) {
        guard Mailbox(mailbox.text) == mailbox else { fatalError("mailbox '\(mailbox.text)' does not read back") }
    }
}
