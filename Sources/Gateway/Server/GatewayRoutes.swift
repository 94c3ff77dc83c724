internal import Foundation
internal import HTTPTypes
public import Hummingbird
internal import ISchedule
internal import NIOCore
internal import Synchronization

/// The request context: Hummingbird's core storage plus the peer address policy decisions need.
public struct GatewayRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// Counts listeners that are up; `/healthz` is ready once all are.
public final class Readiness: Sendable {
    private let started = Mutex(0)
    let expected: Int

    init(expected: Int) { self.expected = expected }

    func listenerStarted() { started.withLock { $0 += 1 } }
    var isReady: Bool { started.withLock { $0 } >= expected }
}

/// The HTTP surface: iSchedule receiver (well-known and canonical path), outbound intake, public
/// keys, health and metrics.
enum GatewayRoutes {
    static let canonicalPath = "/ischedule"

    static func router(runtime: GatewayRuntime, remote: RemoteDelivery, readiness: Readiness) -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self)
        let inbound = InboundProcessor(runtime: runtime)
        let outbound = OutboundProcessor(runtime: runtime, remote: remote)
        let maxBody = runtime.configuration.limits.maxContentLength

        for path in [ReceiverDiscovery.wellKnownPath, canonicalPath] {
            router.get(RouterPath(path)) { request, _ in respond(capabilities(request, runtime: runtime)) }
            router.head(RouterPath(path)) { request, _ in respond(capabilities(request, runtime: runtime)) }
            router.post(RouterPath(path)) { request, context in
                var request = request
                guard let incoming = await collect(&request, context: context, limit: maxBody) else {
                    return respond(runtime.withISchedulingHeaders(tooLarge(maxBody)))
                }
                return respond(await inbound.handle(incoming))
            }
        }
        router.post(RouterPath(runtime.configuration.intake.path)) { request, context in
            var request = request
            guard let incoming = await collect(&request, context: context, limit: maxBody) else { return respond(tooLarge(maxBody)) }
            return respond(await outbound.handle(incoming))
        }
        router.get("/.well-known/domainkey/:domain/:selector") { _, context in
            let domain = context.parameters.get("domain") ?? ""
            let selector = context.parameters.get("selector") ?? ""
            guard let record = runtime.keyring.record(domain: domain, selector: selector) else {
                return respond(.text(404, "no key for selector \(selector) of \(domain)\n"))
            }
            runtime.metrics.request(direction: "domainkey", outcome: "ok")
            var response = GatewayResponse.text(200, record + "\n", type: "text/plain")
            response.headers.append(.init("Cache-Control", "max-age=3600"))
            return respond(response)
        }
        router.get("/healthz") { _, _ in
            var problems: [String] = []
            if !readiness.isReady { problems.append("listeners starting") }
            if runtime.keyring.signers.isEmpty { problems.append("no signing key") }
            if await !runtime.store.isHealthy() { problems.append("queue store not answering") }
            return respond(problems.isEmpty ? .text(200, "ready\n") : .text(503, problems.joined(separator: "; ") + "\n"))
        }
        router.get("/metrics") { _, _ in
            respond(GatewayResponse(status: 200, headers: [.init("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
                                    body: runtime.metrics.render()))
        }
        return router
    }

    /// `?action=capabilities` (draft-05) or legacy `?query=capabilities` (draft-01); anything else 400.
    static func capabilities(_ request: Request, runtime: GatewayRuntime) -> GatewayResponse {
        let query = request.uri.queryParameters
        let actions = query[values: "action"]
        let legacy = query[values: "query"]
        var response: GatewayResponse
        if actions.count == 1 && actions[0] == "capabilities" && legacy.isEmpty {
            response = GatewayResponse(status: 200, headers: [GatewayResponse.xmlType], body: runtime.capabilitiesXML.draft05)
        } else if actions.isEmpty && legacy.count == 1 && legacy[0] == "capabilities" {
            response = GatewayResponse(status: 200, headers: [GatewayResponse.xmlType], body: runtime.capabilitiesXML.draft01)
        } else {
            let problem = actions.isEmpty ? "missing action parameter" : actions.count > 1 ? "repeated action parameter"
                : "unknown action '\(actions[0])'"
            runtime.metrics.request(direction: "capabilities", outcome: "bad_request")
            return runtime.withISchedulingHeaders(.text(400, "\(problem); use ?action=capabilities\n"))
        }
        runtime.metrics.request(direction: "capabilities", outcome: "ok")
        response.headers.append(.init("Cache-Control", "max-age=3600"))
        return runtime.withISchedulingHeaders(response)
    }

    /// The whole body, or nil when it exceeds `limit` (Content-Length is refused earlier by `ConnectionGuard`).
    static func collect(_ request: inout Request, context: GatewayRequestContext, limit: Int) async -> IncomingRequest? {
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: limit) } catch { return nil }
        let headers = request.headers.map { (name: $0.name.rawName, value: $0.value) }
        return IncomingRequest(headers: headers, body: Array(body.readableBytesView), peer: context.remoteAddress?.ipAddress ?? "")
    }

    static func tooLarge(_ limit: Int) -> GatewayResponse {
        .error(IScheduleError(.maxContentLength, "the body exceeds max-content-length \(limit)"))
    }

    static func respond(_ response: GatewayResponse) -> Response {
        var fields = HTTPFields()
        for header in response.headers {
            if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
        }
        return Response(status: HTTPResponse.Status(code: response.status), headers: fields,
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: response.body)))
    }
}
