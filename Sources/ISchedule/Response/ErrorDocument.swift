/// The whole-request error body: `<error xmlns="urn:ietf:params:xml:ns:ischedule"><code/>
/// <response-description>…</response-description></error>` (protocol reference §5.2).
package struct ErrorDocument: Sendable, Equatable {
    /// The precondition element's local name (known codes map to `IScheduleErrorCode`).
    package let precondition: String
    package let namespace: String
    package let responseDescription: String?

    package init(_ error: IScheduleError) {
        precondition = error.code.rawValue
        namespace = iScheduleNamespace
        responseDescription = error.reason
    }

    package var code: IScheduleErrorCode? {
        namespace == iScheduleNamespace || namespace == davNamespace ? IScheduleErrorCode(rawValue: precondition) : nil
    }

    /// Reads an error document; Apple's DAV-namespace `error` root is accepted too.
    package init(xml data: [UInt8]) throws(XMLReadError) {
        let root = try XMLTreeElement.parse(data)
        guard root.name == "error", [iScheduleNamespace, davNamespace, calDAVNamespace].contains(root.namespace) else {
            throw XMLReadError("root element is {\(root.namespace)}\(root.name), expected an iSchedule <error>")
        }
        let conditions = root.children.filter { $0.name != "response-description" && $0.name != "responsedescription" }
        guard let condition = conditions.first else { throw XMLReadError("<error> names no precondition") }
        precondition = condition.name
        namespace = condition.namespace
        responseDescription = (root.child("response-description") ?? root.child("responsedescription"))?.trimmedText
    }

    package func xml() -> String {
        var writer = XMLWriter()
        writer.open("error", namespace: iScheduleNamespace)
        writer.empty(precondition, namespace: namespace == iScheduleNamespace ? nil : namespace)
        if let responseDescription { writer.element("response-description", responseDescription) }
        writer.close("error")
        return writer.output
    }
}
