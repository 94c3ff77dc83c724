/// A receiver's iSchedule capabilities (`GET …?action=capabilities`, protocol reference §3).
/// Every field is optional on input: real servers leave elements out or empty.
public struct Capabilities: Sendable, Equatable {
    /// One supported component and the methods listed for it (an empty list means any method).
    public struct ComponentSupport: Sendable, Equatable {
        public var name: String
        public var methods: [String]
        public init(name: String, methods: [String]) {
            self.name = name
            self.methods = methods
        }
    }

    public struct CalendarDataType: Sendable, Equatable {
        public var contentType: String
        public var version: String?
        public init(contentType: String, version: String?) {
            self.contentType = contentType
            self.version = version
        }
    }

    public enum Attachment: String, Sendable, CaseIterable { case inline, external }

    public var serialNumber: String?
    public var versions: [String] = []
    public var schedulingMessages: [ComponentSupport] = []
    public var calendarDataTypes: [CalendarDataType] = []
    public var attachments: [Attachment] = []
    public var maxContentLength: Int?
    public var minDateTime: String?
    public var maxDateTime: String?
    public var maxInstances: Int?
    public var maxRecipients: Int?
    public var administrator: String?
    /// Draft-00/-01 only.
    public var recipientURISchemes: [String] = []
    /// Cyrus extension (RFC 7529 RSCALE names).
    public var rscales: [String] = []

    public init() {}

    /// Whether `method` is advertised for `component` (case-insensitive).
    public func supports(component: String, method: String) -> Bool {
        guard let entry = schedulingMessages.first(where: { $0.name.uppercased() == component.uppercased() }) else {
            return false
        }
        return entry.methods.isEmpty || entry.methods.contains { $0.uppercased() == method.uppercased() }
    }

    /// Whether `text/calendar` (or another media type) is advertised; none listed means text/calendar.
    public func accepts(contentType: String) -> Bool {
        calendarDataTypes.isEmpty
            ? contentType.lowercased() == "text/calendar"
            : calendarDataTypes.contains { $0.contentType.lowercased() == contentType.lowercased() }
    }
}
