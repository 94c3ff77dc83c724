extension Capabilities {
    /// The draft-05 document, elements in the order of protocol reference §13 check 7.
    public func draft05XML() -> String {
        var writer = XMLWriter()
        writer.open("query-result", namespace: iScheduleNamespace)
        writer.open("capabilities")
        writer.element("serial-number", serialNumber ?? "1")
        writer.open("versions")
        for version in versions.isEmpty ? ["1.0"] : versions { writer.element("version", version) }
        writer.close("versions")
        writer.open("scheduling-messages")
        for component in schedulingMessages {
            writer.open("component", attributes: [("name", component.name)])
            for method in component.methods { writer.empty("method", attributes: [("name", method)]) }
            writer.close("component")
        }
        writer.close("scheduling-messages")
        writer.open("calendar-data-types")
        for type in calendarDataTypes {
            writer.empty("calendar-data-type", attributes: [("content-type", type.contentType)] + (type.version.map { [("version", $0)] } ?? []))
        }
        writer.close("calendar-data-types")
        writer.open("attachments")
        for attachment in attachments { writer.empty(attachment.rawValue) }
        writer.close("attachments")
        writeLimits(&writer)
        writer.close("capabilities")
        writer.close("query-result")
        return writer.output
    }

    /// The draft-00/-01 `capability-set` document old senders (EGroupware, DAViCal) expect at
    /// `?query=capabilities`.
    public func draft01XML() -> String {
        var writer = XMLWriter()
        writer.open("query-result", namespace: iScheduleNamespace)
        writer.open("capability-set")
        writer.open("supported-version-set")
        for version in versions.isEmpty ? ["1.0"] : versions { writer.element("version", version) }
        writer.close("supported-version-set")
        writer.open("supported-scheduling-message-set")
        for component in schedulingMessages {
            writer.open("comp", attributes: [("name", component.name)])
            for method in component.methods { writer.empty("method", attributes: [("name", method)]) }
            writer.close("comp")
        }
        writer.close("supported-scheduling-message-set")
        writer.open("supported-calendar-data")
        for type in calendarDataTypes {
            writer.empty("calendar-data", attributes: [("content-type", type.contentType)] + (type.version.map { [("version", $0)] } ?? []))
        }
        writer.close("supported-calendar-data")
        writer.open("supported-attachment-values")
        for attachment in attachments { writer.empty(attachment == .inline ? "inline-attachment" : "external-attachment") }
        writer.close("supported-attachment-values")
        writer.open("supported-recipient-uri-scheme-set")
        for scheme in recipientURISchemes.isEmpty ? ["mailto"] : recipientURISchemes { writer.element("scheme", scheme) }
        writer.close("supported-recipient-uri-scheme-set")
        writeLimits(&writer)
        writer.close("capability-set")
        writer.close("query-result")
        return writer.output
    }

    private func writeLimits(_ writer: inout XMLWriter) {
        writer.element("max-content-length", maxContentLength.map(String.init) ?? "")
        writer.element("min-date-time", minDateTime ?? "")
        writer.element("max-date-time", maxDateTime ?? "")
        writer.element("max-instances", maxInstances.map(String.init) ?? "")
        writer.element("max-recipients", maxRecipients.map(String.init) ?? "")
        writer.element("administrator", administrator ?? "")
    }
}
