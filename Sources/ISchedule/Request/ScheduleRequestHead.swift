/// The iSchedule headers of a scheduling POST, checked by the rules of protocol reference §4.
///
/// Order follows Apple's receiver: media type, Originator, Recipient, then version and message id.
/// The Content-Type `component`/`method` parameters are kept only for logging: the body decides.
package struct ScheduleRequestHead: Sendable, Equatable {
    package let originator: CalendarUserAddress
    /// Recipients in arrival order, duplicates removed; entries that are not addresses are kept
    /// as nil-address items so the response can answer them individually.
    package let recipients: [Recipient]
    package let version: String?
    package let messageID: String?
    package let contentType: MediaType

    /// One Recipient list item as sent, and its address when it parses as one.
    package struct Recipient: Sendable, Equatable {
        package let text: String
        package let address: CalendarUserAddress?

        /// A recipient as it was listed (a stored one, say): the text kept, the address parsed.
        package init(_ text: String) {
            self.init(text, address: CalendarUserAddress(text))
        }

        init(_ text: String, address: CalendarUserAddress?) {
            self.text = text
            self.address = address
        }
    }

    /// - Parameter requireVersion: signed requests must carry `iSchedule-Version`; Apple omits it
    ///   when it does not sign, so unsigned allow-listed peers may leave it out.
    package init(headers: [(name: String, value: String)], requireVersion: Bool) throws(IScheduleError) {
        try self.init(
            values: { name in headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value) },
            requireVersion: requireVersion)
    }

    /// - Parameter values: every value of the header called `name` (case-insensitive), in order;
    ///   so a caller's own header type is read as it is.
    package init(values: (String) -> [String], requireVersion: Bool) throws(IScheduleError) {
        let contentTypes = values("Content-Type")
        guard contentTypes.count == 1, let mediaType = MediaType(contentTypes[0]) else {
            throw IScheduleError(
                .invalidCalendarDataType,
                contentTypes.isEmpty ? "no Content-Type" : "unreadable Content-Type '\(contentTypes.joined(separator: ", "))'")
        }
        guard mediaType.essence == "text/calendar" else {
            throw IScheduleError(.invalidCalendarDataType, "media type \(mediaType.essence) is not text/calendar")
        }
        if let charset = mediaType["charset"], charset.lowercased() != "utf-8" {
            throw IScheduleError(.invalidCalendarDataType, "charset \(charset) is not utf-8")
        }

        let originators = values("Originator")
        guard !originators.isEmpty, !originators[0].trimmingBlanks.isEmpty else {
            throw IScheduleError(.originatorMissing, "no Originator header")
        }
        guard originators.count == 1, !originators[0].contains(",") else {
            throw IScheduleError(.tooManyOriginators, "\(max(originators.count, 2)) originators; exactly one is allowed")
        }
        guard let originator = CalendarUserAddress(originators[0]) else {
            throw IScheduleError(
                .originatorInvalid,
                "Originator '\(Self.printable(originators[0].trimmingBlanks))' is not a calendar user "
                    + "address (a mailto: address must be a plain local@domain)")
        }

        var recipients: [Recipient] = []
        var seen: Set<String> = []
        for item in values("Recipient").flatMap({ $0.split(separator: ",") }) {
            let text = item.trimmingBlanks
            guard !text.isEmpty else { continue }
            let address = CalendarUserAddress(text)
            // An e-mail address we cannot read as a plain local@domain is a request to refuse, not
            // a recipient to skip: its domain reads differently to others (`Mailbox`).
            if address == nil, text.lowercased().hasPrefix("mailto:") || (!text.contains(":") && text.contains("@")) {
                throw IScheduleError(.invalidSchedulingMessage, "Recipient '\(Self.printable(text))' is not a plain local@domain address")
            }
            guard seen.insert(address?.normalized ?? text).inserted else { continue }
            recipients.append(Recipient(text, address: address))
        }
        guard !recipients.isEmpty else { throw IScheduleError(.recipientMissing, "no Recipient header") }

        let versions = Set(values("iSchedule-Version").map(\.trimmingBlanks))
        if versions.isEmpty && requireVersion {
            throw IScheduleError(.versionNotSupported, "no iSchedule-Version header")
        }
        if !versions.isEmpty {
            guard versions.count == 1, let version = versions.first, Self.isSupported(version: version) else {
                throw IScheduleError(.versionNotSupported, "iSchedule-Version \(versions.sorted().joined(separator: ", ")) is not supported (1.0)")
            }
        }
        let messageIDs = values("iSchedule-Message-ID").map(\.trimmingBlanks)
        guard messageIDs.count <= 1 else {
            throw IScheduleError(.invalidSchedulingMessage, "\(messageIDs.count) iSchedule-Message-ID headers")
        }
        self.originator = originator
        self.recipients = recipients
        self.version = versions.first
        self.messageID = messageIDs.first.flatMap { $0.isEmpty ? nil : $0 }
        self.contentType = mediaType
    }

    /// A peer's text for an error reason: printable ASCII, at most 200 characters.
    static func printable(_ text: String) -> String {
        String(String(text.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" }).prefix(200))
    }

    /// `1*DIGIT "." 1*DIGIT` with major version 1.
    static func isSupported(version: String) -> Bool {
        let parts = version.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else {
            return false
        }
        return Int(parts[0]) == 1
    }
}
