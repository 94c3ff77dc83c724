extension Capabilities {
    /// The element names of one capabilities dialect.
    struct Dialect {
        let set, versions, messages, component, dataTypes, dataType, attachments, inline, external: String
        /// `serial-number` arrived with -03; the URI scheme set left with -02.
        let writesSerialNumber, writesSchemes: Bool

        static let draft05 = Dialect(
            set: "capabilities", versions: "versions", messages: "scheduling-messages",
            component: "component", dataTypes: "calendar-data-types", dataType: "calendar-data-type",
            attachments: "attachments", inline: "inline", external: "external", writesSerialNumber: true, writesSchemes: false)
        static let draft01 = Dialect(
            set: "capability-set", versions: "supported-version-set",
            messages: "supported-scheduling-message-set", component: "comp",
            dataTypes: "supported-calendar-data", dataType: "calendar-data",
            attachments: "supported-attachment-values", inline: "inline-attachment",
            external: "external-attachment", writesSerialNumber: false, writesSchemes: true)
    }

    /// The draft-05 document, elements in the order of protocol reference §13 check 7.
    package func draft05XML() -> String { xml(.draft05) }

    /// The draft-00/-01 `capability-set` document old senders (EGroupware, DAViCal) expect at
    /// `?query=capabilities`.
    package func draft01XML() -> String { xml(.draft01) }

    private func xml(_ dialect: Dialect) -> String {
        var writer = XMLWriter()
        writer.open("query-result", namespace: iScheduleNamespace)
        writer.open(dialect.set)
        if dialect.writesSerialNumber { writer.element("serial-number", serialNumber ?? "1") }
        writer.open(dialect.versions)
        for version in versions.isEmpty ? ["1.0"] : versions { writer.element("version", version) }
        writer.close(dialect.versions)
        writer.open(dialect.messages)
        for component in schedulingMessages {
            writer.open(dialect.component, attributes: [("name", component.name)])
            for method in component.methods { writer.empty("method", attributes: [("name", method)]) }
            writer.close(dialect.component)
        }
        writer.close(dialect.messages)
        writer.open(dialect.dataTypes)
        for type in calendarDataTypes {
            writer.empty(dialect.dataType, attributes: [("content-type", type.contentType)] + (type.version.map { [("version", $0)] } ?? []))
        }
        writer.close(dialect.dataTypes)
        writer.open(dialect.attachments)
        for attachment in attachments { writer.empty(attachment == .inline ? dialect.inline : dialect.external) }
        writer.close(dialect.attachments)
        if dialect.writesSchemes {
            writer.open("supported-recipient-uri-scheme-set")
            for scheme in recipientURISchemes.isEmpty ? ["mailto"] : recipientURISchemes { writer.element("scheme", scheme) }
            writer.close("supported-recipient-uri-scheme-set")
        }
        writer.element("max-content-length", maxContentLength.map(String.init) ?? "")
        writer.element("min-date-time", minDateTime ?? "")
        writer.element("max-date-time", maxDateTime ?? "")
        writer.element("max-instances", maxInstances.map(String.init) ?? "")
        writer.element("max-recipients", maxRecipients.map(String.init) ?? "")
        writer.element("administrator", administrator ?? "")
        writer.close(dialect.set)
        writer.close("query-result")
        return writer.output
    }
}
