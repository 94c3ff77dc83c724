extension Capabilities {
    /// Reads a capabilities document in any dialect seen in the field: draft-05 (`capabilities`),
    /// Apple's (a stray `version` instead of `serial-number`, a URL as `administrator`), Cyrus's
    /// (empty `max-recipients`/`administrator`, extra `rscales`) and draft-01 (`capability-set`
    /// with `supported-…-set` names). Unknown elements are ignored; empty numbers read as absent.
    package init(xml data: [UInt8]) throws(XMLReadError) {
        let root = try XMLTreeElement.parse(data)
        guard root.name == "query-result" || root.name == "capabilities" || root.name == "capability-set" else {
            throw XMLReadError("root element is <\(root.name)>, expected <query-result>")
        }
        let set = root.name == "query-result" ? (root.child("capabilities") ?? root.child("capability-set")) : root
        guard let set else { throw XMLReadError("<query-result> holds no <capabilities> element") }
        self.init()
        for element in set.children {
            let text = element.trimmedText
            switch element.name {
            case "serial-number": serialNumber = text.isEmpty ? nil : text
            case "version" where serialNumber == nil && !text.isEmpty: serialNumber = text
            case "versions", "supported-version-set":
                versions = element.children("version").map(\.trimmedText).filter { !$0.isEmpty }
            case "scheduling-messages", "supported-scheduling-message-set":
                schedulingMessages = element.children.filter { $0.name == "component" || $0.name == "comp" }.compactMap { component in
                    guard let name = component.attributes["name"], !name.isEmpty else { return nil }
                    let methods = component.children("method").compactMap { $0.attributes["name"] }.filter { !$0.isEmpty }
                    return ComponentSupport(name: name.uppercased(), methods: methods.map { $0.uppercased() })
                }
            case "calendar-data-types", "supported-calendar-data":
                calendarDataTypes = element.children.filter { $0.name == "calendar-data-type" || $0.name == "calendar-data" }
                    .compactMap { type in
                        guard let contentType = type.attributes["content-type"], !contentType.isEmpty else { return nil }
                        return CalendarDataType(contentType: contentType, version: type.attributes["version"])
                    }
            case "attachments", "supported-attachment-values":
                attachments = element.children.compactMap { child in
                    switch child.name {
                    case "inline", "inline-attachment": .inline
                    case "external", "external-attachment": .external
                    default: nil
                    }
                }
            case "max-content-length": maxContentLength = Self.number(text)
            case "min-date-time": minDateTime = text.isEmpty ? nil : text
            case "max-date-time": maxDateTime = text.isEmpty ? nil : text
            case "max-instances": maxInstances = Self.number(text)
            case "max-recipients": maxRecipients = Self.number(text)
            case "administrator": administrator = text.isEmpty ? nil : text
            case "supported-recipient-uri-scheme-set":
                recipientURISchemes = element.children("scheme").map(\.trimmedText).filter { !$0.isEmpty }
            case "rscales": rscales = element.children("rscale").map(\.trimmedText).filter { !$0.isEmpty }
            default: continue
            }
        }
    }

    private static func number(_ text: String) -> Int? {
        guard !text.isEmpty, text.count <= 18, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }
}
