internal import DKIM
internal import Foundation
internal import HTTPTypes
internal import Hummingbird
internal import ISchedule
internal import NIOCore

/// The HTTP surface: the iSchedule receiver (well-known and canonical path, with the iSchedule
/// response headers added by middleware), the outbound intake, public keys, health and metrics.
/// Requests become `IncomingRequest`s here, once; answers leave as `GatewayResponse`s.
struct GatewayRoutes: Sendable {
    static let canonicalPath = "/ischedule"

    /// The processors, documents and keys of the configuration in effect.
    let stages: Reloadable<RoutedStages>
    let intakePath: String
    let maxContentLength: Int
    let health: @Sendable () async -> [String]
    let status: @Sendable () async -> StatusReport
    let metrics: GatewayMetrics

    /// - Parameter intake: whether this listener serves the outbound intake (loopback listeners,
    ///   or those configured with `intake: true`), and beside it, to the intake's clients only, the
    ///   status report, `/metrics` and the health details; the receiver, keys and a bare
    ///   ready/not ready are everywhere.
    /// - Parameter metrics: whether `/metrics` is served here to anyone (`listeners[].metrics`).
    /// - Parameter clientCertificates: whether the listener verifies TLS client certificates: the
    ///   receiver then reads the names of the one presented (the TLS-only profile).
    func router(intake: Bool, metrics openMetrics: Bool = false, clientCertificates: Bool = false) -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self)
        addReceiver(to: router, clientCertificates: clientCertificates)
        if intake { addIntake(to: router) }
        addKeys(to: router)
        addHealth(to: router, detailedForIntakeClients: intake)
        // It names the domains we correspond with: for the intake's clients, or on a scraper's own listener.
        if intake || openMetrics { addMetrics(to: router, open: openMetrics) }
        return router
    }

    /// The iSchedule receiver: capabilities and POSTs on the well-known and the canonical path.
    private func addReceiver(to router: Router<GatewayRequestContext>, clientCertificates: Bool) {
        let receiver = router.group()
            .add(middleware: RequestMetricsMiddleware(direction: "inbound", metrics: metrics))
            .add(middleware: IScheduleHeadersMiddleware(serial: { stages.current.capabilities.serial }))
        for path in [ReceiverDiscovery.wellKnownPath, Self.canonicalPath] {
            receiver.get(RouterPath(path)) { request, _ in respond(capabilitiesDocument(request)) }
            receiver.head(RouterPath(path)) { request, _ in respond(capabilitiesDocument(request)) }
            receiver.post(RouterPath(path)) { request, context in
                var request = request
                guard var incoming = await collect(&request, context: context) else { return respond(Self.tooLarge(maxContentLength)) }
                if clientCertificates { incoming.clientCertificateNames = await context.clientCertificateNames() }
                return respond(await stages.current.inbound.handle(incoming))
            }
        }
    }

    /// The outbound intake, and beside it, for its clients only, the status report.
    private func addIntake(to router: Router<GatewayRequestContext>) {
        router.group().add(middleware: RequestMetricsMiddleware(direction: "outbound", metrics: metrics))
            .post(RouterPath(intakePath)) { request, context in
                var request = request
                guard let incoming = await collect(&request, context: context) else { return respond(Self.tooLarge(maxContentLength)) }
                return respond(await stages.current.outbound.handle(incoming))
            }
        // The status report: for whoever may use the intake (same addresses, same secret).
        router.get("/status.json") { request, context in
            let stages = stages.current
            if let refusal = stages.outbound.intake.refusal(head(request, context: context)) { return respond(.text(403, refusal + "\n")) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let body = (try? encoder.encode(await status())).map(Array.init) ?? []
            return respond(.uncached(contentType: "application/json", body: body))
        }
        router.get("/status") { request, context in
            let stages = stages.current
            // Who may not read it does not learn whether it is on.
            if let refusal = stages.outbound.intake.refusal(head(request, context: context)) { return respond(.text(403, refusal + "\n")) }
            guard stages.statusPage else { return respond(.text(404, "the status page is off (status-page: true turns it on)\n")) }
            return respond(.uncached(contentType: "text/html; charset=utf-8", body: Array(StatusPage.html(await status()).utf8)))
        }
    }

    /// Our public keys (`q=http/well-known`).
    private func addKeys(to router: Router<GatewayRequestContext>) {
        router.group().add(middleware: RequestMetricsMiddleware(direction: "domainkey", metrics: metrics))
            .get("/.well-known/domainkey/:domain/:selector") { _, context in
                let domain = context.parameters.get("domain") ?? ""
                let selector = context.parameters.get("selector") ?? ""
                guard let record = stages.current.keyring.record(domain: domain, selector: selector) else {
                    return respond(.text(404, "no key for selector \(selector) of \(domain)\n"))
                }
                var response = GatewayResponse.text(200, record + "\n", type: "text/plain")
                response.headers.append(HeaderField(name: "Cache-Control", value: "max-age=3600"))
                return respond(response)
            }
    }

    /// Ready or not for everyone; what is wrong only for the intake's clients.
    private func addHealth(to router: Router<GatewayRequestContext>, detailedForIntakeClients intake: Bool) {
        router.get("/healthz") { request, context in
            let problems = await health()
            guard !problems.isEmpty else { return respond(.text(200, "ready\n")) }
            // What is wrong (paths, store errors) only for the intake's clients.
            let detailed = intake && stages.current.outbound.intake.refusal(head(request, context: context)) == nil
            return respond(.text(503, detailed ? problems.joined(separator: "; ") + "\n" : "not ready\n"))
        }
    }

    /// `/metrics`: to anyone (`open`), or to the intake's clients.
    private func addMetrics(to router: Router<GatewayRequestContext>, open openMetrics: Bool) {
        router.get("/metrics") { request, context in
            if !openMetrics, let refusal = stages.current.outbound.intake.refusal(head(request, context: context)) {
                return respond(.text(403, refusal + "\n"))
            }
            return respond(
                GatewayResponse(
                    status: 200, headers: [HeaderField(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")],
                    body: metrics.render()))
        }
    }

    /// `?action=capabilities` (draft-05) or legacy `?query=capabilities` (draft-01); anything else 400.
    private func capabilitiesDocument(_ request: Request) -> GatewayResponse {
        let query = request.uri.queryParameters
        let capabilities = stages.current.capabilities
        let actions = query[values: "action"]
        let legacy = query[values: "query"]
        var response: GatewayResponse
        if actions.count == 1 && actions[0] == "capabilities" && legacy.isEmpty {
            response = GatewayResponse(status: 200, headers: [GatewayResponse.xmlType], body: capabilities.draft05)
        } else if actions.isEmpty && legacy.count == 1 && legacy[0] == "capabilities" {
            response = GatewayResponse(status: 200, headers: [GatewayResponse.xmlType], body: capabilities.draft01)
        } else {
            let problem =
                actions.isEmpty
                ? "missing action parameter"
                : actions.count > 1
                    ? "repeated action parameter"
                    : "unknown action '\(actions[0])'"
            return .text(400, "\(problem); use ?action=capabilities\n")
        }
        response.headers.append(HeaderField(name: "Cache-Control", value: "max-age=3600"))
        return response
    }

    /// The whole request, or nil when the body exceeds max-content-length (a declared
    /// Content-Length over it is refused earlier by `ConnectionGuard`).
    private func collect(_ request: inout Request, context: GatewayRequestContext) async -> IncomingRequest? {
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: maxContentLength) } catch { return nil }
        var incoming = head(request, context: context)
        incoming.body = Array(body.readableBytesView)
        return incoming
    }

    /// The request without its body (a GET, or a POST before its body is read).
    private func head(_ request: Request, context: GatewayRequestContext) -> IncomingRequest {
        let headers = request.headers.map { HeaderField(name: $0.name.rawName, value: $0.value) }
        if case .unixDomainSocket = context.remoteAddress { return IncomingRequest(headers: headers, body: [], peer: "local", viaLocalSocket: true) }
        return IncomingRequest(headers: headers, body: [], peer: context.remoteAddress?.ipAddress ?? "")
    }

    static func tooLarge(_ limit: Int) -> GatewayResponse {
        .error(IScheduleError(.maxContentLength, "the body exceeds max-content-length \(limit)"))
    }

    private func respond(_ response: GatewayResponse) -> Response {
        var fields = HTTPFields()
        for header in response.headers {
            if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
        }
        return Response(
            status: HTTPResponse.Status(code: response.status), headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: response.body)))
    }
}
