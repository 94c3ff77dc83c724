import FuzzSupport
import ISchedule

// The mail filter's reader of a stranger's e-mail: header fields, MIME parts (nested, with
// boundaries), transfer encodings, and the search for the iTIP object.
FuzzDriver.run { bytes in
    let mail = MailEntity(bytes[...])
    _ = mail.header("Message-ID")
    _ = CalendarInMail.find(in: mail)
}
