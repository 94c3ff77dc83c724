public import Foundation

/// iTIP bodies for the tests (CRLF, complete VCALENDARs).
public enum ITIP {
    public static func calendar(
        method: String, component: String = "VEVENT", organizer: String, attendees: [String],
        uid: String = UUID().uuidString, extra: [String] = []
    ) -> [UInt8] {
        var lines = [
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//ischedule-gateway tests//EN", "METHOD:\(method)",
            "BEGIN:\(component)", "UID:\(uid)", "DTSTAMP:20261124T100000Z"
        ]
        if component == "VFREEBUSY" {
            lines += ["DTSTART:20261201T000000Z", "DTEND:20261208T000000Z"]
        } else {
            lines += ["DTSTART:20261201T100000Z", "DTEND:20261201T110000Z", "SUMMARY:Planning meeting"]
        }
        lines.append("ORGANIZER:\(organizer)")
        lines += attendees.map { "ATTENDEE;PARTSTAT=NEEDS-ACTION:\($0)" }
        lines += extra
        lines += ["END:\(component)", "END:VCALENDAR", ""]
        return Array(lines.joined(separator: "\r\n").utf8)
    }

    public static func contentType(_ method: String, _ component: String = "VEVENT") -> String {
        "text/calendar; charset=utf-8; component=\(component); method=\(method)"
    }
}
