import Foundation
import TestSupport
import TestTraits
import Testing

/// `ischedule-gateway status` and the status page against a running gateway: our domain as
/// senders see it through NSD (SRV, TLS verified, capabilities, key published), a remote domain
/// delivered and one whose circuit opened with a delivery queued (its receiver answers 503);
/// then the gateway stopped.
@Suite(.serialized, .waitsOnProcesses) struct StatusTests {
    @Test func statusShowsOurDomainsAndEachRemoteDomain() throws {
        let certificates = try TestCertificates()
        let tls = try certificates.issue("gw.alpha.test", subjectAltNames: ["DNS:gw.alpha.test", "IP:127.0.0.1"])
        let directory = GatewayProcess.temporaryDirectory("status")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let keygen = try GatewayBinary.run([
            "dkim", "keygen", "--domain", "alpha.test", "--selector", "gw",
            "--out", directory.appendingPathComponent("keys").path
        ])
        #expect(keygen.status == 0)
        let record = keygen.output.split(separator: "\n").first { $0.hasPrefix("gw._domainkey.alpha.test.") } ?? ""
        let httpsPort = freeLoopbackPort()
        let dns = try TestDNSServer(zones: [
            "alpha.test": """
            @ IN SOA ns.alpha.test. h.alpha.test. 1 3600 600 86400 60
            @ IN NS ns.alpha.test.
            ns IN A 127.0.0.1
            gw IN A 127.0.0.1
            _ischedules._tcp IN SRV 0 1 \(httpsPort) gw.alpha.test.
            \(record)

            """
        ])
        let receiver = try TestCalendarServer()
        defer {
            receiver.stop()
            dns.stop()
        }
        var configuration = GatewayYAML.facingPeers(
            "alpha.test", key: "keys/alpha.test.gw.private.pem", upstream: "http://127.0.0.1:9/", https: "https://127.0.0.1:\(httpsPort)",
            certificate: tls, dns: dns.server, caFile: certificates.caFile)
        configuration["dkim"] = nil
        configuration.merge([
            "remote-domains": [
                "peer.test": ["uri": .scalar(receiver.url()), "tls-policy": "may"],
                "dead.test": ["uri": .scalar(receiver.url("/status/503")), "tls-policy": "may"]
            ],
            "delivery": ["circuit-failures": 1, "circuit-cooldown": "10m", "retry-initial": "10m"], "timeouts": ["connect": "2s"]
        ])
        let gateway = try GatewayProcess(configuration: configuration, directory: directory, listeners: 2)
        let file = directory.appendingPathComponent("gateway.yaml").path
        // Listeners print in the order they come up: take the plain-http one by its URL.
        let port = try #require(gateway.listening.first { $0.hasPrefix("http://") }.flatMap { $0.split(separator: ":").last.flatMap { UInt16($0) } })
        for recipient in ["mailto:bob@peer.test", "mailto:carol@dead.test"] {
            let answer = try RawHTTPConnection.exchange(
                port: port, path: "/outbound",
                headers: [("Originator", "mailto:alice@alpha.test"), ("Recipient", recipient), ("Content-Type", ITIP.contentType("REQUEST"))],
                body: ITIP.calendar(method: "REQUEST", organizer: "mailto:alice@alpha.test", attendees: [recipient]), timeout: 30)
            #expect(answer.status == 200, "\(answer.text)")
        }

        let status = try GatewayBinary.run(["status", "--config", file])
        #expect(status.status == 0, "\(status.output)")
        for expected in [
            "alpha.test: ok", "receiver: https://gw.alpha.test:\(httpsPort)/.well-known/ischedule", "tls: verified",
            "capabilities: serial 1, versions 1.0", "key gw (signs): gw._domainkey.alpha.test published",
            "peer.test\tlast: delivered ", "circuit: closed\tqueue: empty\ttls-policy: may",
            "dead.test\tlast: failed ", "answered HTTP 503", "circuit: open for ", "queue: 1 pending, 0 held"
        ] {
            #expect(status.output.contains(expected), "\(expected) in \(status.output)")
        }

        // The page is off by default; a reload turns it on. Only the intake's clients see either.
        let off = try RawHTTPConnection.exchange(port: port, method: "GET", path: "/status")
        #expect(off.status == 404)
        let offOutside = try RawHTTPConnection.exchange(port: port, method: "GET", path: "/status", source: "127.0.0.2")
        #expect(offOutside.status == 403, "a stranger does not learn whether the page is on")
        try configuration.merged(["status-page": true]).write(to: URL(fileURLWithPath: file))
        gateway.process.send(SIGHUP)
        var page = off
        for _ in 0..<100 where page.status != 200 {
            usleep(50_000)
            page = try RawHTTPConnection.exchange(port: port, method: "GET", path: "/status")
        }
        #expect(
            page.status == 200 && page.text.contains("<tr class=\"open\"><td>dead.test</td>") && page.text.contains("<td>peer.test</td>"),
            "\(page.text)")
        let stranger = try RawHTTPConnection.exchange(port: port, method: "GET", path: "/status.json", source: "127.0.0.2")
        #expect(stranger.status == 403, "\(stranger.text)")
        let outside = try RawHTTPConnection.exchange(port: port, method: "GET", path: "/status", source: "127.0.0.2")
        #expect(outside.status == 403)

        #expect(gateway.stop() == 0)
        let stopped = try GatewayBinary.run(["status", "--config", file])
        #expect(
            stopped.status == 1 && stopped.output.contains("did not answer") && stopped.output.contains("dead.test\tischedule\tqueue: 1 pending"),
            "\(stopped.output)")
    }
}
