/// Free/busy answered from a CalDAV server for a user whose server has no iSchedule: the RFC 4791
/// `free-busy-query` REPORT to send, the busy periods read from its answer, and the iTIP VFREEBUSY
/// REPLY (RFC 5546 §3.6.2) built from them. Only busy time leaves: FREEBUSY values of type FREE
/// are dropped, and nothing but the periods and their busy type is copied from the server.
package enum FreeBusyReply {
    /// One FREEBUSY value: its `FBTYPE` (BUSY, BUSY-TENTATIVE, BUSY-UNAVAILABLE) and period.
    package struct Period: Sendable, Equatable {
        package var type: String
        package var period: String
    }

    /// The REPORT body asking for the free/busy of `start`..`end` (UTC `YYYYMMDDTHHMMSSZ`).
    package static func queryBody(start: String, end: String) -> [UInt8] {
        Array(
            ("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<C:free-busy-query xmlns:C=\"urn:ietf:params:xml:ns:caldav\">"
                + "<C:time-range start=\"\(start)\" end=\"\(end)\"/></C:free-busy-query>\n").utf8)
    }

    /// The busy periods of a `free-busy-query` answer (a VCALENDAR with VFREEBUSY components).
    package static func busyPeriods(in answer: [UInt8]) throws(IScheduleError) -> [Period] {
        let calendar: CalendarComponent
        do { calendar = try CalendarComponent.calendar(from: ContentLineParser.parse(answer)) } catch {
            throw IScheduleError(.invalidCalendarData, "the CalDAV server's free-busy answer: \(error.description)")
        }
        var periods: [Period] = []
        for component in calendar.components where component.name == "VFREEBUSY" {
            for line in component.properties("FREEBUSY") {
                let type = (line.parameter("FBTYPE") ?? "BUSY").uppercased()
                guard type.hasPrefix("BUSY") else { continue }
                for period in line.value.split(separator: ",") {
                    let text = period.filter { !$0.isWhitespace }
                    guard Self.isPeriod(text) else {
                        throw IScheduleError(
                            .invalidCalendarData, "the CalDAV server's FREEBUSY value '\(period)' on line \(line.lineNumber) is not a period")
                    }
                    periods.append(Period(type: type, period: text))
                }
            }
        }
        return periods
    }

    /// The REPLY to `request` (a VFREEBUSY REQUEST) for `attendee`: the request's UID, range and
    /// ORGANIZER, the attendee, `stamp` as DTSTAMP, the busy periods; CRLF line ends.
    package static func reply(to request: ITIPMessage, attendee: String, periods: [Period], stamp: String) -> [UInt8] {
        var lines = [
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//ischedule-gateway//free-busy from CalDAV//EN", "METHOD:REPLY",
            "BEGIN:VFREEBUSY"
        ]
        if let uid = request.uid { lines.append("UID:\(uid)") }
        lines.append("DTSTAMP:\(stamp)")
        if let range = request.freeBusyRange { lines += ["DTSTART:\(range.start)", "DTEND:\(range.end)"] }
        if let organizer = request.organizer { lines.append("ORGANIZER:\(organizer.text)") }
        lines.append("ATTENDEE:\(attendee)")
        for type in ["BUSY", "BUSY-TENTATIVE", "BUSY-UNAVAILABLE"] {
            let ofType = periods.filter { $0.type == type }.map(\.period)
            if !ofType.isEmpty { lines.append("FREEBUSY;FBTYPE=\(type):" + ofType.joined(separator: ",")) }
        }
        lines += ["END:VFREEBUSY", "END:VCALENDAR", ""]
        return Array(lines.joined(separator: "\r\n").utf8)
    }

    /// `start/end` or `start/duration` with a UTC date-time start (RFC 5545 §3.3.9, FREEBUSY form).
    static func isPeriod(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, isUTCDateTime(parts[0]) else { return false }
        return isUTCDateTime(parts[1])
            || (parts[1].first == "P" && parts[1].count > 1
                && parts[1].allSatisfy { $0.isASCII && ($0.isNumber || "PTWDHMS".contains($0)) })
    }

    private static func isUTCDateTime(_ text: Substring) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z") else { return false }
        return (bytes[0..<8] + bytes[9..<15]).allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}
