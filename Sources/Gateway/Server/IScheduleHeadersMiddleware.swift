internal import HTTPTypes
internal import Hummingbird

/// Every answer of the iSchedule receiver carries `iSchedule-Version` and `iSchedule-Capabilities`
/// (protocol reference §13 check 8), whichever path produced it.
struct IScheduleHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The capabilities serial number in effect (a reload may change it).
    let serial: @Sendable () -> String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        for (name, value) in [("iSchedule-Version", "1.0"), ("iSchedule-Capabilities", serial())] {
            guard let field = HTTPField.Name(name) else { continue }
            response.headers[field] = value
        }
        return response
    }
}
