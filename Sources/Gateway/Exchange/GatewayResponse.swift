internal import DKIM
internal import ISchedule

/// An HTTP answer produced by the gateway's processors, independent of the server framework.
struct GatewayResponse: Sendable, Equatable {
    var status: Int
    var headers: [HeaderField]
    var body: [UInt8]

    init(status: Int, headers: [HeaderField] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    static let xmlType = HeaderField(name: "Content-Type", value: "application/xml; charset=utf-8")

    /// The iSchedule `error` document for a whole-request failure.
    static func error(_ error: IScheduleError, status: Int? = nil) -> GatewayResponse {
        GatewayResponse(status: status ?? error.code.httpStatus, headers: [xmlType], body: Array(ErrorDocument(error).xml().utf8))
    }

    /// A `schedule-response` with one `response` per recipient.
    static func schedule(_ response: ScheduleResponse) -> GatewayResponse {
        GatewayResponse(status: 200, headers: [xmlType], body: Array(response.xml().utf8))
    }

    /// A 200 no cache may keep (the status report and page change with every delivery).
    static func uncached(contentType: String, body: [UInt8]) -> GatewayResponse {
        GatewayResponse(
            status: 200, headers: [HeaderField(name: "Content-Type", value: contentType), HeaderField(name: "Cache-Control", value: "no-store")],
            body: body)
    }

    static func text(_ status: Int, _ text: String, type: String = "text/plain; charset=utf-8") -> GatewayResponse {
        GatewayResponse(status: status, headers: [HeaderField(name: "Content-Type", value: type)], body: Array(text.utf8))
    }
}
