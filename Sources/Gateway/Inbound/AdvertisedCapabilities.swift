internal import ISchedule

/// What this gateway advertises at `?action=capabilities`, and therefore accepts.
enum AdvertisedCapabilities {
    static func make(for configuration: GatewayConfiguration) -> Capabilities {
        var capabilities = Capabilities()
        capabilities.serialNumber = String(configuration.capabilitiesSerial)
        capabilities.versions = ["1.0"]
        let eventMethods = ["REQUEST", "REPLY", "CANCEL", "ADD", "REFRESH", "COUNTER", "DECLINECOUNTER"]
        capabilities.schedulingMessages = [
            .init(name: "VEVENT", methods: eventMethods),
            .init(name: "VTODO", methods: eventMethods),
            .init(name: "VFREEBUSY", methods: ["REQUEST"])
        ]
        capabilities.calendarDataTypes = [.init(contentType: "text/calendar", version: "2.0")]
        capabilities.attachments = [.external]
        capabilities.maxContentLength = configuration.limits.maxContentLength
        capabilities.minDateTime = "19000101T000000Z"
        capabilities.maxDateTime = "21000101T000000Z"
        capabilities.maxInstances = 3000
        capabilities.maxRecipients = configuration.limits.maxRecipients
        capabilities.administrator =
            configuration.administrator
            ?? configuration.domains.first.map { "mailto:postmaster@\($0.name)" }
        return capabilities
    }
}
