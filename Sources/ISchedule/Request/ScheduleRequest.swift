/// A complete, checked iSchedule scheduling request: headers, iTIP body and the anti-spoofing rule.
package struct ScheduleRequest: Sendable, Equatable {
    package let head: ScheduleRequestHead
    package let message: ITIPMessage

    package init(headers: [(name: String, value: String)], body: [UInt8], requireVersion: Bool) throws(IScheduleError) {
        try self.init(
            values: { name in headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value) },
            body: body, requireVersion: requireVersion)
    }

    /// - Parameter values: every value of the header called `name` (case-insensitive), in order.
    package init(values: (String) -> [String], body: [UInt8], requireVersion: Bool) throws(IScheduleError) {
        try self.init(head: try ScheduleRequestHead(values: values, requireVersion: requireVersion), body: body)
    }

    /// The body read against headers already checked (a receiver checks them, and the signature,
    /// before it spends anything on the calendar).
    package init(head: ScheduleRequestHead, body: [UInt8], maximumAttendees: Int = ITIPMessage.defaultMaximumAttendees) throws(IScheduleError) {
        let message = try ITIPMessage(parsing: body, maximumAttendees: maximumAttendees)
        try message.checkOriginator(head.originator)
        self.head = head
        self.message = message
    }

    /// Whether the Content-Type `component`/`method` parameters disagree with the body (they are
    /// ignored for processing, but worth a log line).
    package var contentTypeDisagreesWithBody: Bool {
        if let component = head.contentType["component"], component.uppercased() != message.componentType { return true }
        if let method = head.contentType["method"], method.uppercased() != message.method.rawValue { return true }
        return false
    }
}
