/// An iTIP REQUEST-STATUS value (`code;description[;data]`) as carried in `schedule-response`.
public struct RequestStatus: Sendable, Hashable, CustomStringConvertible {
    /// `1*DIGIT "." 1*DIGIT ["." 1*DIGIT]`.
    public let code: String
    public let text: String

    public init(code: String, text: String) {
        self.code = code
        self.text = text
    }

    /// Parses `code;text`; nil unless the code matches `^\d\.\d+(\.\d+)?` and a `;` follows.
    public init?(parsing value: String) {
        let trimmed = value.trimmingBlanks
        guard let semicolon = trimmed.firstIndex(of: ";") else { return nil }
        let code = String(trimmed[..<semicolon])
        let parts = code.split(separator: ".", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), parts[0].count == 1,
            parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } })
        else { return nil }
        self.init(code: code, text: String(trimmed[trimmed.index(after: semicolon)...]))
    }

    public var description: String { "\(code);\(text)" }

    /// The class digit: 1 pending/sent, 2 success, 3 client error, 5 server error.
    public var statusClass: Int { Int(code.prefix(1)) ?? 0 }
    public var isSuccess: Bool { statusClass == 2 || code == "1.2" }

    public static let pending = RequestStatus(code: "1.0", text: "Scheduling message send is pending")
    public static let sent = RequestStatus(code: "1.1", text: "Scheduling message has been sent")
    public static let delivered = RequestStatus(code: "1.2", text: "Scheduling message has been delivered")
    public static let success = RequestStatus(code: "2.0", text: "Success")
    public static let invalidCalendarUser = RequestStatus(code: "3.7", text: "Invalid Calendar User")
    public static let noAuthority = RequestStatus(code: "3.8", text: "No authority")
    public static let serviceCannotHandle = RequestStatus(code: "5.0", text: "Service cannot handle request")
    public static let serviceUnavailable = RequestStatus(code: "5.1", text: "Service unavailable")
    public static let invalidCalendarService = RequestStatus(code: "5.2", text: "Invalid calendar service")
    public static let noSchedulingSupport = RequestStatus(code: "5.3", text: "No scheduling support for user")
}
