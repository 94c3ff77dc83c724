/// An iTIP REQUEST-STATUS value (`code;description[;data]`) as carried in `schedule-response`.
package struct RequestStatus: Sendable, Hashable, CustomStringConvertible {
    /// `1*DIGIT "." 1*DIGIT ["." 1*DIGIT]`.
    package let code: String
    package let text: String

    package init(code: String, text: String) {
        self.code = code
        self.text = text
    }

    /// Parses `code;text`; nil unless the code matches `^\d\.\d+(\.\d+)?` and a `;` follows.
    package init?(parsing value: String) {
        let trimmed = value.trimmingBlanks
        guard let semicolon = trimmed.firstIndex(of: ";") else { return nil }
        let code = String(trimmed[..<semicolon])
        let parts = code.split(separator: ".", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), parts[0].count == 1,
            parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } })
        else { return nil }
        self.init(code: code, text: String(trimmed[trimmed.index(after: semicolon)...]))
    }

    package var description: String { "\(code);\(text)" }

    /// The class digit: 1 pending/sent, 2 success, 3 client error, 5 server error.
    package var statusClass: Int { Int(code.prefix(1)) ?? 0 }
    package var isSuccess: Bool { statusClass == 2 || code == "1.2" }

    package static let pending = RequestStatus(code: "1.0", text: "Scheduling message send is pending")
    package static let sent = RequestStatus(code: "1.1", text: "Scheduling message has been sent")
    package static let delivered = RequestStatus(code: "1.2", text: "Scheduling message has been delivered")
    package static let success = RequestStatus(code: "2.0", text: "Success")
    package static let invalidCalendarUser = RequestStatus(code: "3.7", text: "Invalid Calendar User")
    package static let noAuthority = RequestStatus(code: "3.8", text: "No authority")
    package static let serviceCannotHandle = RequestStatus(code: "5.0", text: "Service cannot handle request")
    package static let serviceUnavailable = RequestStatus(code: "5.1", text: "Service unavailable")
    package static let invalidCalendarService = RequestStatus(code: "5.2", text: "Invalid calendar service")
    package static let noSchedulingSupport = RequestStatus(code: "5.3", text: "No scheduling support for user")
}
