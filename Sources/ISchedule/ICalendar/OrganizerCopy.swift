/// A server that mails each stored event as it is (Radicale's `email` hook) vouches for no
/// organizer: any of its users can store an event naming anyone as ORGANIZER, or one with the
/// UID of someone else's event and other contents. Such a mail speaks for its organizer only as
/// far as the organizer's own calendar agrees: the mail filter asks the server (a calendar-query
/// REPORT in the organizer's calendars, as a service account) for the object with the mailed
/// UID, and sends that stored copy, never the mailed one, to those of the mail's recipients the
/// copy names as ATTENDEEs.
package enum OrganizerCopy {
    /// What may go by iSchedule: the organizer's stored object as a REQUEST, and its attendees.
    package struct Confirmed: Sendable, Equatable {
        /// The stored object with METHOD:REQUEST, CRLF line ends.
        package let calendar: [UInt8]
        /// The attendees' mailboxes, lower case.
        package let attendees: Set<String>
    }

    /// Whether `uid` is worth asking for: CalDAV's text-match finds every UID containing it, so
    /// a short one (`-`) would fetch all of the organizer's events. Real clients' UIDs are long.
    package static func isSearchable(uid: String) -> Bool { uid.utf8.count >= 8 }

    /// The calendar-query REPORT body that finds objects whose UID contains `uid` (CalDAV's
    /// text-match is a substring match: `confirmed` keeps the exact one).
    package static func query(uid: String) -> [UInt8] {
        Array(
            ("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<C:calendar-query xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\">"
                + "<D:prop><C:calendar-data/></D:prop><C:filter><C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\">"
                + "<C:prop-filter name=\"UID\"><C:text-match collation=\"i;octet\">\(XMLWriter.escape(uid))</C:text-match>"
                + "</C:prop-filter></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>\n").utf8)
    }

    /// The calendar data of each response of a REPORT's multistatus answer.
    package static func calendars(inMultistatus body: [UInt8]) throws(IScheduleError) -> [[UInt8]] {
        let root: XMLTreeElement
        do { root = try XMLTreeElement.parse(body) } catch {
            throw IScheduleError(.invalidCalendarData, "the CalDAV server's calendar-query answer: \(error.description)")
        }
        guard root.namespace == davNamespace, root.name == "multistatus" else {
            throw IScheduleError(.invalidCalendarData, "the CalDAV server's calendar-query answer is not a DAV:multistatus")
        }
        return root.children("response").flatMap { $0.children("propstat") }
            .filter { $0.child("status")?.trimmedText.split(separator: " ").dropFirst().first == "200" }
            .compactMap { $0.child("prop")?.child("calendar-data") }
            .filter { $0.namespace == calDAVNamespace && !$0.trimmedText.isEmpty }.map { Array($0.text.utf8) }
    }

    /// The rule: among the objects found in the organizer's calendars, the one whose UID is
    /// exactly `uid` and whose ORGANIZER is `organizer`, read as a REQUEST (it is stored
    /// without METHOD); nil when there is none, or more than one (the server's store is not
    /// what this rule assumes: nothing is sent for it).
    package static func confirmed(uid: String, organizer: CalendarUserAddress, among stored: [[UInt8]]) -> Confirmed? {
        let matching = stored.compactMap { object -> Confirmed? in
            let calendar = LineEnds.endingInCRLF(LineEnds.crlf(object))
            let request = CalendarInMail.withInferredMethod(calendar)
            guard request != calendar, let itip = try? ITIPMessage(parsing: request), itip.method == .request, itip.uid == uid,
                itip.organizer == organizer
            else { return nil }
            return Confirmed(calendar: request, attendees: Set(itip.attendees.compactMap { $0.mailbox?.text.lowercased() }))
        }
        return matching.count == 1 ? matching.first : nil
    }
}
