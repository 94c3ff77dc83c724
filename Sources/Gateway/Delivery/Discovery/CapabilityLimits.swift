internal import ISchedule

/// What a receiver's capabilities allow a sender to send (protocol reference §3, §13 check 12):
/// recipients split into batches of at most `max-recipients`, bodies no larger than
/// `max-content-length`, only advertised components, methods and calendar data types.
enum CapabilityLimits {
    /// Why a message cannot go to a receiver as it is.
    enum Violation: Error, Sendable, Equatable, CustomStringConvertible {
        case bodyTooLarge(size: Int, maximum: Int)
        case unsupportedMessage(component: String, method: String)
        case unsupportedDataType(String)
        case unsupportedVersion([String])

        var description: String {
            switch self {
            case .bodyTooLarge(let size, let maximum): "body of \(size) octets exceeds the receiver's max-content-length \(maximum)"
            case .unsupportedMessage(let component, let method): "receiver does not accept \(component) \(method)"
            case .unsupportedDataType(let type): "receiver does not accept \(type)"
            case .unsupportedVersion(let versions): "receiver supports iSchedule \(versions.joined(separator: ", ")), not 1.0"
            }
        }
    }

    /// Recipients in batches of at most `max-recipients`, order kept; one batch when unlimited.
    static func batches<Recipient>(_ recipients: [Recipient], capabilities: Capabilities) -> [[Recipient]] {
        guard let limit = capabilities.maxRecipients, limit > 0, recipients.count > limit else {
            return recipients.isEmpty ? [] : [recipients]
        }
        return stride(from: 0, to: recipients.count, by: limit).map { Array(recipients[$0..<min($0 + limit, recipients.count)]) }
    }

    /// Whether a message of this shape may be sent at all (splitting cannot fix these).
    static func check(
        bodySize: Int, component: String, method: String, contentType: String = "text/calendar",
        capabilities: Capabilities
    ) throws(Violation) {
        if !capabilities.versions.isEmpty && !capabilities.versions.contains("1.0") {
            throw .unsupportedVersion(capabilities.versions)
        }
        if let maximum = capabilities.maxContentLength, maximum > 0, bodySize > maximum {
            throw .bodyTooLarge(size: bodySize, maximum: maximum)
        }
        if !capabilities.schedulingMessages.isEmpty && !capabilities.supports(component: component, method: method) {
            throw .unsupportedMessage(component: component, method: method)
        }
        guard capabilities.accepts(contentType: contentType) else { throw .unsupportedDataType(contentType) }
    }
}
