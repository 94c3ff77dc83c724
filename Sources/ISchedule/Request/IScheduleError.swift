/// The iSchedule precondition elements (`{urn:ietf:params:xml:ns:ischedule}error` children).
package enum IScheduleErrorCode: String, Sendable, CaseIterable {
    case versionNotSupported = "version-not-supported"
    case invalidCalendarDataType = "invalid-calendar-data-type"
    case invalidCalendarData = "invalid-calendar-data"
    case invalidSchedulingMessage = "invalid-scheduling-message"
    case originatorMissing = "originator-missing"
    case tooManyOriginators = "too-many-originators"
    case originatorInvalid = "originator-invalid"
    case originatorDenied = "originator-denied"
    case recipientMissing = "recipient-missing"
    case recipientMismatch = "recipient-mismatch"
    case verificationFailed = "verification-failed"
    case organizerDenied = "organizer-denied"
    case attendeeDenied = "attendee-denied"
    case maxRecipients = "max-recipients"
    case maxContentLength = "max-content-length"

    /// The HTTP status the receiver answers with (Cyrus's 400 for syntax, 403 for authorization).
    package var httpStatus: Int {
        switch self {
        case .verificationFailed, .originatorDenied, .organizerDenied, .attendeeDenied: 403
        case .maxContentLength: 413
        default: 400
        }
    }
}

/// A whole-request failure: one precondition plus a human-readable reason.
package struct IScheduleError: Error, Sendable, Equatable, CustomStringConvertible {
    package let code: IScheduleErrorCode
    package let reason: String

    package init(_ code: IScheduleErrorCode, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    package var description: String { "\(code.rawValue): \(reason)" }
}
