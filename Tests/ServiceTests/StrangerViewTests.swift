import Foundation
import ISchedule
import TestSupport
import TestTraits
import Testing

/// What a stranger on the network learns from the gateway: not whom it corresponds with (metrics),
/// not its paths or errors (health), and no way through the intake behind a careless proxy.
@Suite("What strangers see", .serialized, .waitsOnProcesses)
struct StrangerViewTests {
    /// One gateway with three listeners on loopback: a public one (intake off), the intake's
    /// (only 127.0.0.1 may use it: other 127/8 source addresses are strangers), and a scraper's
    /// (`metrics: true`). NSD serves `example`, whose domains publish no iSchedule. Without
    /// `signing: false`, alpha.test has a signing key; without it, the gateway is not ready.
    final class World: @unchecked Sendable {
        let dns: TestDNSServer
        let gateway: GatewayProcess
        let publicPort = freeLoopbackPort(), intakePort = freeLoopbackPort(), scraperPort = freeLoopbackPort()

        init(trustedProxies: [String] = [], signing: Bool = true) throws {
            dns = try TestDNSServer(zones: ["example": zoneHead("example")])
            var configuration = GatewayYAML.local()
            if !signing { configuration["domains"] = nil }
            configuration.merge([
                "listeners": [
                    ["url": "http://127.0.0.1:\(publicPort)", "intake": false], ["url": "http://127.0.0.1:\(intakePort)", "intake": true],
                    ["url": "http://127.0.0.1:\(scraperPort)", "intake": false, "metrics": true]
                ],
                "domains": ["beta.test": ["upstream": "http://127.0.0.1:9/"]],
                "dns": ["servers": [.scalar(dns.server)]]
            ])
            configuration["outbound", "allow-private-addresses"] = nil
            if !trustedProxies.isEmpty { configuration["outbound", "trusted-proxies"] = .list(trustedProxies) }
            gateway = try GatewayProcess(configuration: configuration, directory: GatewayProcess.temporaryDirectory("strangers"), listeners: 3)
        }

        func get(_ path: String, port: UInt16, source: String = "127.0.0.1") throws -> RawHTTPResponse {
            try RawHTTPConnection.exchange(port: port, method: "GET", path: path, source: source)
        }

        func stop() {
            _ = gateway.stop()
            dns.stop()
        }
    }

    @Test(
        "/metrics is not on the public listener; beside the intake only for its clients; on a metrics: true listener for its scraper; domain labels stay bounded"
    )
    func metricsAreNotPublic() throws {
        let world = try World()
        defer { world.stop() }
        #expect(try world.get("/metrics", port: world.publicPort).status == 404)
        let stranger = try world.get("/metrics", port: world.intakePort, source: "127.0.0.5")
        #expect(stranger.status == 403, "\(stranger.text)")
        // 120 invited domains without iSchedule, from the local server.
        for batch in 0..<2 {
            let recipients = (0..<60).map { "mailto:u@d\(batch * 60 + $0).example" }
            let body = ITIP.calendar(method: "REQUEST", organizer: "mailto:alice@alpha.test", attendees: recipients)
            let answer = try RawHTTPConnection.exchange(
                port: world.intakePort, path: "/outbound",
                headers: [
                    ("Originator", "mailto:alice@alpha.test"), ("Recipient", recipients.joined(separator: ",")),
                    ("Content-Type", ITIP.contentType("REQUEST"))
                ], body: body, timeout: 60)
            #expect(answer.status == 200, "\(answer.text)")
        }
        let client = try world.get("/metrics", port: world.intakePort, source: "127.0.0.1")
        #expect(client.status == 200 && client.text.contains("ischedule_deliveries_total"), "\(client.text.prefix(500))")
        let scraped = try world.get("/metrics", port: world.scraperPort, source: "127.0.0.9")
        #expect(scraped.status == 200)
        let domains = Set(
            scraped.text.split(separator: "\n").filter { $0.hasPrefix("ischedule_deliveries_total{") }
                .compactMap { line in line.range(of: "domain=\"").map { line[$0.upperBound...].prefix { $0 != "\"" } }.map(String.init) })
        #expect(domains.contains("other") && domains.count <= 51, "\(domains.count) domain label values")
    }

    @Test("/healthz tells a stranger ready or not ready only; the intake's clients get the reasons")
    func healthForStrangers() throws {
        let world = try World(signing: false)
        defer { world.stop() }
        let stranger = try world.get("/healthz", port: world.publicPort)
        #expect(stranger.status == 503 && stranger.text == "not ready\n", "\(stranger.text)")
        let outsider = try world.get("/healthz", port: world.intakePort, source: "127.0.0.5")
        #expect(outsider.status == 503 && outsider.text == "not ready\n", "\(outsider.text)")
        let client = try world.get("/healthz", port: world.intakePort)
        #expect(client.status == 503 && client.text.contains("no signing key"), "\(client.text)")
    }

    @Test("the intake refuses requests relayed by a proxy unless it is one of outbound.trusted-proxies, and then allow-lists the client it names")
    func forwardedHeaders() throws {
        for (proxies, header, expected) in [
            ([], ("X-Forwarded-For", "127.0.0.1"), 403), ([], ("Forwarded", "for=127.0.0.1"), 403),
            ([], ("X-Real-IP", "127.0.0.1"), 403),
            (["127.0.0.1"], ("X-Forwarded-For", "203.0.113.5, 127.0.0.1"), 200),
            (["127.0.0.1"], ("X-Forwarded-For", "203.0.113.5"), 403),
            (["127.0.0.1"], ("Forwarded", "for=\"[2001:db8::5]:4711\""), 403),
            (["127.0.0.1"], ("X-Not-Forwarding", "x"), 403)
        ] {
            let world = try World(trustedProxies: proxies)
            defer { world.stop() }
            let body = ITIP.calendar(method: "REQUEST", organizer: "mailto:alice@alpha.test", attendees: ["mailto:u@d1.example"])
            let answer = try RawHTTPConnection.exchange(
                port: world.intakePort, path: "/outbound",
                headers: [
                    ("Originator", "mailto:alice@alpha.test"), ("Recipient", "mailto:u@d1.example"),
                    ("Content-Type", ITIP.contentType("REQUEST")), header
                ], body: body, timeout: 30)
            #expect(answer.status == expected, "proxies \(proxies) \(header): \(answer.status) \(answer.text)")
            if expected == 403 {
                #expect(
                    answer.text.contains("proxy") || answer.text.contains("may not submit") || answer.text.contains("names no client"),
                    "\(answer.text)")
            }
        }
    }
}
