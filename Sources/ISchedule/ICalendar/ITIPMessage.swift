/// What the gateway needs from an iTIP body (RFC 5546): METHOD, the scheduling component, UID,
/// ORGANIZER, ATTENDEEs and, for free-busy, the UTC range. Parsing enforces the iTIP rules;
/// malformed text gives `invalid-calendar-data` with the line, rule violations
/// `invalid-scheduling-message` with the reason.
package struct ITIPMessage: Sendable, Equatable {
    package let method: ITIPMethod
    /// VEVENT, VTODO, VJOURNAL, VFREEBUSY or VPOLL.
    package let componentType: String
    package let uid: String?
    package let organizer: CalendarUserAddress?
    /// Every distinct ATTENDEE across the component's instances, in order of appearance.
    package let attendees: [CalendarUserAddress]
    /// VFREEBUSY DTSTART/DTEND as `YYYYMMDDTHHMMSSZ`.
    package let freeBusyRange: (start: String, end: String)?
    package let calendar: CalendarComponent

    package static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.method == rhs.method && lhs.componentType == rhs.componentType && lhs.uid == rhs.uid
            && lhs.organizer == rhs.organizer && lhs.attendees == rhs.attendees && lhs.calendar == rhs.calendar
            && lhs.freeBusyRange?.start == rhs.freeBusyRange?.start && lhs.freeBusyRange?.end == rhs.freeBusyRange?.end
    }

    /// More distinct ATTENDEEs than this are refused unless a caller says otherwise.
    package static let defaultMaximumAttendees = 10_000

    package init(parsing bytes: [UInt8], maximumAttendees: Int = ITIPMessage.defaultMaximumAttendees) throws(IScheduleError) {
        let calendar: CalendarComponent
        do {
            calendar = try CalendarComponent.calendar(from: ContentLineParser.parse(bytes))
        } catch {
            throw IScheduleError(.invalidCalendarData, error.description)
        }
        try self.init(calendar: calendar, maximumAttendees: maximumAttendees)
    }

    /// - Parameter maximumAttendees: more distinct ATTENDEEs are refused (the work stays linear in
    ///   the body either way; the cap bounds what one request may ask of the receiver).
    package init(calendar: CalendarComponent, maximumAttendees: Int = ITIPMessage.defaultMaximumAttendees) throws(IScheduleError) {
        func invalid(_ reason: String) -> IScheduleError { IScheduleError(.invalidSchedulingMessage, reason) }
        let methods = calendar.properties("METHOD")
        guard let methodLine = methods.first else { throw invalid("no METHOD property") }
        guard methods.count == 1 else { throw invalid("\(methods.count) METHOD properties") }
        guard let method = ITIPMethod(rawValue: methodLine.value.uppercased()) else {
            throw invalid("METHOD:\(methodLine.value) is not an iTIP method")
        }
        let instances = calendar.components.filter { $0.name != "VTIMEZONE" }
        guard let first = instances.first else { throw invalid("no scheduling component") }
        let types = Set(instances.map(\.name))
        guard types.count == 1 else { throw invalid("mixed components \(types.sorted().joined(separator: ", "))") }
        let allowed = ITIPMethod.allowed(for: first.name)
        guard !allowed.isEmpty else { throw invalid("\(first.name) is not a scheduling component") }
        guard allowed.contains(method) else { throw invalid("METHOD:\(method.rawValue) is not defined for \(first.name)") }

        let uids = Set(instances.compactMap { $0.property("UID")?.value })
        guard uids.count <= 1 else { throw invalid("instances carry different UIDs") }
        if uids.isEmpty && first.name != "VFREEBUSY" { throw invalid("no UID") }

        var organizer: CalendarUserAddress?
        for line in instances.flatMap({ $0.properties("ORGANIZER") }) {
            guard let address = CalendarUserAddress(line.value) else {
                throw invalid("ORGANIZER on line \(line.lineNumber) is not a calendar user address")
            }
            if let organizer, organizer != address { throw invalid("instances name different ORGANIZERs") }
            organizer = address
        }
        guard organizer != nil else { throw invalid("no ORGANIZER") }

        let attendees = try Self.attendees(of: instances, method: method, maximum: maximumAttendees)
        if method.originatorRole == .attendee && attendees.count != 1 {
            throw invalid("\(method.rawValue) instances name different ATTENDEEs")
        }
        if method == .request && attendees.isEmpty { throw invalid("REQUEST without ATTENDEE") }

        var range: (String, String)?
        if first.name == "VFREEBUSY" && method == .request {
            guard instances.count == 1 else { throw invalid("free-busy REQUEST with \(instances.count) VFREEBUSY components") }
            range = (try Self.utc(first, "DTSTART"), try Self.utc(first, "DTEND"))
        }
        self.method = method
        self.componentType = first.name
        self.uid = uids.first
        self.organizer = organizer
        self.attendees = attendees
        self.freeBusyRange = range
        self.calendar = calendar
    }

    /// Every distinct ATTENDEE in order of appearance (a set keeps this linear), at most `maximum`.
    private static func attendees(
        of instances: [CalendarComponent], method: ITIPMethod,
        maximum: Int
    ) throws(IScheduleError) -> [CalendarUserAddress] {
        func invalid(_ reason: String) -> IScheduleError { IScheduleError(.invalidSchedulingMessage, reason) }
        var attendees: [CalendarUserAddress] = []
        var seen: Set<CalendarUserAddress> = []
        for instance in instances {
            let lines = instance.properties("ATTENDEE")
            if method.originatorRole == .attendee && lines.count != 1 {
                throw invalid("\(method.rawValue) must carry exactly one ATTENDEE per component, found \(lines.count)")
            }
            for line in lines {
                guard let address = CalendarUserAddress(line.value) else {
                    throw invalid("ATTENDEE on line \(line.lineNumber) is not a calendar user address")
                }
                guard seen.insert(address).inserted else { continue }
                guard attendees.count < maximum else {
                    throw invalid("more than \(maximum) ATTENDEEs (the limit for one scheduling message)")
                }
                attendees.append(address)
            }
        }
        return attendees
    }

    private static func utc(_ component: CalendarComponent, _ name: String) throws(IScheduleError) -> String {
        guard let line = component.property(name) else {
            throw IScheduleError(.invalidSchedulingMessage, "VFREEBUSY has no \(name)")
        }
        let value = Array(line.value.utf8)
        let isUTC =
            value.count == 16 && value[8] == UInt8(ascii: "T") && value[15] == UInt8(ascii: "Z")
            && value.enumerated().allSatisfy { index, byte in index == 8 || index == 15 || (byte >= 0x30 && byte <= 0x39) }
        guard isUTC, line.parameter("TZID") == nil else {
            throw IScheduleError(.invalidSchedulingMessage, "VFREEBUSY \(name):\(line.value) on line \(line.lineNumber) is not a UTC date-time")
        }
        return line.value
    }

    /// Who must have sent this message: the ORGANIZER, or the single ATTENDEE of a reply.
    package var expectedOriginator: CalendarUserAddress? {
        method.originatorRole == .organizer ? organizer : attendees.first
    }

    /// The anti-spoofing rule: Originator equals ORGANIZER for PUBLISH/REQUEST/ADD/CANCEL/
    /// DECLINECOUNTER(/POLLSTATUS) and the single ATTENDEE for REPLY/COUNTER/REFRESH.
    package func checkOriginator(_ originator: CalendarUserAddress) throws(IScheduleError) {
        guard let expected = expectedOriginator, expected == originator else {
            let role = method.originatorRole == .organizer ? "ORGANIZER" : "ATTENDEE"
            throw IScheduleError(
                .originatorInvalid,
                "Originator \(originator) is not the \(role) \(expectedOriginator?.text ?? "(none)") of this \(method.rawValue)")
        }
    }
}
