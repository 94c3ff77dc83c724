public import ISchedule

/// An HTTP answer produced by the gateway's processors, independent of the server framework.
public struct GatewayResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [HeaderPair]
    public var body: [UInt8]

    /// One response header.
    public struct HeaderPair: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(status: Int, headers: [HeaderPair] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    static let xmlType = HeaderPair("Content-Type", "application/xml; charset=utf-8")

    /// The iSchedule `error` document for a whole-request failure.
    public static func error(_ error: IScheduleError, status: Int? = nil) -> GatewayResponse {
        GatewayResponse(status: status ?? error.code.httpStatus, headers: [xmlType], body: Array(ErrorDocument(error).xml().utf8))
    }

    /// A `schedule-response` with one `response` per recipient.
    public static func schedule(_ response: ScheduleResponse) -> GatewayResponse {
        GatewayResponse(status: 200, headers: [xmlType], body: Array(response.xml().utf8))
    }

    public static func text(_ status: Int, _ text: String, type: String = "text/plain; charset=utf-8") -> GatewayResponse {
        GatewayResponse(status: status, headers: [HeaderPair("Content-Type", type)], body: Array(text.utf8))
    }
}
