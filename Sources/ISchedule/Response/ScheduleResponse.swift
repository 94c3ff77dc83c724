/// A `schedule-response`: one `response` per recipient, in request order (protocol reference §5.1).
package struct ScheduleResponse: Sendable, Equatable {
    /// The answer for one recipient.
    package struct Item: Sendable, Equatable {
        /// The address exactly as the request spelled it.
        package var recipient: String
        package var requestStatus: RequestStatus
        package var calendarData: String?
        package var calendarDataContentType: String?
        /// Precondition element inside `error`, as `{namespace}name`-less local name plus namespace.
        package var error: (namespace: String, name: String)?
        package var responseDescription: String?

        package init(
            recipient: String, requestStatus: RequestStatus, calendarData: String? = nil,
            calendarDataContentType: String? = nil, error: (namespace: String, name: String)? = nil,
            responseDescription: String? = nil
        ) {
            self.recipient = recipient
            self.requestStatus = requestStatus
            self.calendarData = calendarData
            self.calendarDataContentType = calendarDataContentType
            self.error = error
            self.responseDescription = responseDescription
        }

        package static func == (lhs: Self, rhs: Self) -> Bool {
            lhs.recipient == rhs.recipient && lhs.requestStatus == rhs.requestStatus && lhs.calendarData == rhs.calendarData
                && lhs.calendarDataContentType == rhs.calendarDataContentType && lhs.error?.namespace == rhs.error?.namespace
                && lhs.error?.name == rhs.error?.name && lhs.responseDescription == rhs.responseDescription
        }
    }

    package var items: [Item]

    package init(items: [Item]) { self.items = items }

    /// The answer for `recipient` (exact spelling first, then normalized address).
    package func item(for recipient: String) -> Item? {
        if let exact = items.first(where: { $0.recipient == recipient }) { return exact }
        guard let address = CalendarUserAddress(recipient) else { return nil }
        return items.first { CalendarUserAddress($0.recipient) == address }
    }

    /// Reads a schedule-response in the iSchedule namespace, or Apple's old CalDAV-namespace form
    /// (a DAV `href` inside `recipient`, `responsedescription`). A `response` without a readable
    /// recipient or request-status makes the whole document malformed.
    package init(xml data: [UInt8]) throws(XMLReadError) {
        let root = try XMLTreeElement.parse(data)
        guard root.name == "schedule-response", [iScheduleNamespace, calDAVNamespace].contains(root.namespace) else {
            throw XMLReadError("root element is {\(root.namespace)}\(root.name), expected {\(iScheduleNamespace)}schedule-response")
        }
        var items: [Item] = []
        for (index, response) in root.children("response").enumerated() {
            guard let recipientElement = response.child("recipient") else {
                throw XMLReadError("response \(index + 1) has no <recipient>")
            }
            let recipient = (recipientElement.child("href")?.trimmedText ?? recipientElement.trimmedText)
            guard !recipient.isEmpty else { throw XMLReadError("response \(index + 1) has an empty <recipient>") }
            guard let statusText = response.child("request-status")?.trimmedText,
                let status = RequestStatus(parsing: statusText)
            else { throw XMLReadError("response \(index + 1) has no valid <request-status>") }
            let calendar = response.child("calendar-data")
            let error = response.child("error")?.children.first.map { (namespace: $0.namespace, name: $0.name) }
            let description = (response.child("response-description") ?? response.child("responsedescription"))?.trimmedText
            items.append(
                Item(
                    recipient: recipient, requestStatus: status, calendarData: calendar?.text,
                    calendarDataContentType: calendar?.attributes["content-type"], error: error,
                    responseDescription: description))
        }
        self.items = items
    }

    /// The draft-05 document.
    package func xml() -> String {
        var writer = XMLWriter()
        writer.open("schedule-response", namespace: iScheduleNamespace)
        for item in items {
            writer.open("response")
            writer.element("recipient", item.recipient)
            writer.element("request-status", item.requestStatus.description)
            if let data = item.calendarData {
                if let type = item.calendarDataContentType {
                    writer.open("calendar-data", attributes: [("content-type", type)])
                    writer.text(data)
                    writer.close("calendar-data")
                } else {
                    writer.element("calendar-data", data)
                }
            }
            if let error = item.error {
                writer.open("error")
                writer.empty(error.name, namespace: error.namespace == iScheduleNamespace ? nil : error.namespace)
                writer.close("error")
            }
            if let description = item.responseDescription { writer.element("response-description", description) }
            writer.close("response")
        }
        writer.close("schedule-response")
        return writer.output
    }
}
