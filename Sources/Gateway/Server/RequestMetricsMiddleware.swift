internal import Hummingbird

/// Counts every request of a route group by its answer: `ischedule_requests_total{direction, outcome}`,
/// the outcome `ok` for 2xx, else the HTTP status.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let direction: String
    let metrics: GatewayMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response = try await next(request, context)
        let code = response.status.code
        metrics.request(direction: direction, outcome: (200..<300).contains(code) ? "ok" : String(code))
        return response
    }
}
