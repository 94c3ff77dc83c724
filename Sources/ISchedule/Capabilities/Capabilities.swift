/// A receiver's iSchedule capabilities (`GET …?action=capabilities`, protocol reference §3).
/// Every field is optional on input: real servers leave elements out or empty.
package struct Capabilities: Sendable, Equatable {
    /// One supported component and the methods listed for it (an empty list means any method).
    package struct ComponentSupport: Sendable, Equatable {
        package var name: String
        package var methods: [String]
        package init(name: String, methods: [String]) {
            self.name = name
            self.methods = methods
        }
    }

    package struct CalendarDataType: Sendable, Equatable {
        package var contentType: String
        package var version: String?
        package init(contentType: String, version: String?) {
            self.contentType = contentType
            self.version = version
        }
    }

    package enum Attachment: String, Sendable, CaseIterable { case inline, external }

    package var serialNumber: String?
    package var versions: [String] = []
    package var schedulingMessages: [ComponentSupport] = []
    package var calendarDataTypes: [CalendarDataType] = []
    package var attachments: [Attachment] = []
    package var maxContentLength: Int?
    package var minDateTime: String?
    package var maxDateTime: String?
    package var maxInstances: Int?
    package var maxRecipients: Int?
    package var administrator: String?
    /// Draft-00/-01 only.
    package var recipientURISchemes: [String] = []
    /// Cyrus extension (RFC 7529 RSCALE names).
    package var rscales: [String] = []

    package init() {}

    /// Whether `method` is advertised for `component` (case-insensitive).
    package func supports(component: String, method: String) -> Bool {
        guard let entry = schedulingMessages.first(where: { $0.name.uppercased() == component.uppercased() }) else {
            return false
        }
        return entry.methods.isEmpty || entry.methods.contains { $0.uppercased() == method.uppercased() }
    }

    /// Whether `text/calendar` (or another media type) is advertised; none listed means text/calendar.
    package func accepts(contentType: String) -> Bool {
        calendarDataTypes.isEmpty
            ? contentType.lowercased() == "text/calendar"
            : calendarDataTypes.contains { $0.contentType.lowercased() == contentType.lowercased() }
    }
}
