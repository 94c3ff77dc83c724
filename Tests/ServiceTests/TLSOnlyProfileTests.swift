import Foundation
import TestSupport
import TestTraits
import Testing

/// CalConnect's TLS-only iSchedule profile (CC/WD 51010, which dropped DKIM): two gateways that
/// publish no DKIM keys at all authenticate each other by TLS client certificates bound to their
/// domains in config (`authentication: tls`, `client-names`), and a certificate for another
/// domain, or none, is refused.
@Suite("TLS-only authentication profile", .serialized, .waitsOnProcesses)
struct TLSOnlyProfileTests {
    final class World: @unchecked Sendable {
        let alphaUpstream, betaUpstream: TestCalendarServer
        let dns: TestDNSServer
        let alpha, beta: GatewayProcess
        let certificates: TestCertificates
        var betaPort: UInt16 { beta.port("https") ?? 0 }

        init() throws {
            alphaUpstream = try TestCalendarServer()
            betaUpstream = try TestCalendarServer()
            certificates = try TestCertificates()
            let server = try certificates.issue("localhost", subjectAltNames: ["DNS:localhost", "IP:127.0.0.1"])
            // Each gateway's zone needs the other's port: the listeners take ports from the kernel
            // and the DNS server (at an address chosen now) starts once both are up.
            let nameserver = "127.53.\(UInt8.random(in: 1...250)).\(UInt8.random(in: 1...250))"
            alpha = try Self.start(
                "alpha.test", peer: "beta.test", upstream: alphaUpstream, server: server,
                client: try certificates.issue("gw.alpha.test", subjectAltNames: ["DNS:gw.alpha.test"]),
                caFile: certificates.caFile, dnsServer: nameserver)
            beta = try Self.start(
                "beta.test", peer: "alpha.test", upstream: betaUpstream, server: server,
                client: try certificates.issue("gw.beta.test", subjectAltNames: ["DNS:gw.beta.test"]),
                caFile: certificates.caFile, dnsServer: nameserver)
            // SRV records only: no DKIM key is published for either domain.
            func zone(_ name: String, _ gateway: GatewayProcess) -> String {
                zoneHead(name) + "_ischedules._tcp IN SRV 0 1 \(gateway.port("https") ?? 0) localhost.\n"
            }
            dns = try TestDNSServer(zones: ["alpha.test": zone("alpha.test", alpha), "beta.test": zone("beta.test", beta)], onPort53: nameserver)
        }

        static func start(
            _ name: String, peer: String, upstream: TestCalendarServer, server: (cert: String, key: String),
            client: (cert: String, key: String), caFile: String, dnsServer: String
        ) throws -> GatewayProcess {
            var configuration = GatewayYAML.facingPeers(
                name, key: "keys/dkim.pem", upstream: upstream.url(), certificate: server, clientCAFile: caFile, dns: dnsServer, caFile: caFile)
            configuration.merge([
                "domains": .map(name, ["client-certificate": .scalar(client.cert), "client-private-key": .scalar(client.key)]),
                "remote-domains": .map(peer, ["authentication": "tls", "client-names": ["gw.\(peer)"]])
            ])
            return try GatewayProcess(configuration: configuration, directory: GatewayProcess.temporaryDirectory(name), listeners: 2)
        }

        /// An unsigned iSchedule POST to beta's TLS listener presenting `client` (or no certificate).
        func postToBeta(
            originator: String, client: (cert: String, key: String)?,
            messageID: String? = "tls-only-test"
        ) throws -> (status: Int, body: String) {
            let body = String(
                decoding: ITIP.calendar(method: "REQUEST", organizer: originator, attendees: ["mailto:zed@beta.test"]),
                as: UTF8.self)
            let script = """
                import http.client, ssl, sys
                port, ca, originator, cert, key, message_id = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
                context = ssl.create_default_context(cafile=ca)
                if cert:
                    context.load_cert_chain(cert, key)
                connection = http.client.HTTPSConnection("localhost", port, context=context, timeout=20)
                headers = {"Originator": originator, "Recipient": "mailto:zed@beta.test", "iSchedule-Version": "1.0",
                           "Content-Type": "text/calendar; component=VEVENT; method=REQUEST"}
                if message_id:
                    headers["iSchedule-Message-ID"] = message_id
                connection.request("POST", "/.well-known/ischedule", body=sys.stdin.buffer.read(), headers=headers)
                response = connection.getresponse()
                print(response.status)
                print(response.read().decode())
                """
            let run = try runPython(
                script, [String(betaPort), certificates.caFile, originator, client?.cert ?? "", client?.key ?? "", messageID ?? ""],
                input: Data(body.utf8))
            let lines = run.output.split(separator: "\n", maxSplits: 1)
            return (Int(lines.first ?? "") ?? -1, lines.count > 1 ? String(lines[1]) : run.output)
        }

        func stop() {
            _ = alpha.stop()
            _ = beta.stop()
            dns.stop()
            alphaUpstream.stop()
            betaUpstream.stop()
        }
    }

    @Test("two gateways without DKIM keys authenticate each other by client certificates: an invitation one way, the reply the other")
    func gatewaysAuthenticateByCertificates() throws {
        let world = try World()
        defer { world.stop() }
        let invitation = ITIP.calendar(method: "REQUEST", organizer: "mailto:alice@alpha.test", attendees: ["mailto:zed@beta.test"])
        let sent = try RawHTTPConnection.exchange(
            port: try #require(world.alpha.port("http")), path: "/outbound",
            headers: [
                ("Originator", "mailto:alice@alpha.test"), ("Recipient", "mailto:zed@beta.test"),
                ("Content-Type", ITIP.contentType("REQUEST"))
            ], body: invitation, timeout: 30)
        #expect(scheduleResponse(sent)?.items.map(\.requestStatus.code) == ["1.2"], "\(sent.text)\n\(world.beta.log.suffix(2_000))")
        #expect(world.betaUpstream.records.count == 1)
        #expect(world.betaUpstream.records.first?.values("Originator") == ["mailto:alice@alpha.test"])

        let reply = ITIP.calendar(method: "REPLY", organizer: "mailto:alice@alpha.test", attendees: ["mailto:zed@beta.test"])
        let answered = try RawHTTPConnection.exchange(
            port: try #require(world.beta.port("http")), path: "/outbound",
            headers: [
                ("Originator", "mailto:zed@beta.test"), ("Recipient", "mailto:alice@alpha.test"),
                ("Content-Type", ITIP.contentType("REPLY"))
            ], body: reply, timeout: 30)
        #expect(scheduleResponse(answered)?.items.map(\.requestStatus.code) == ["1.2"], "\(answered.text)\n\(world.alpha.log.suffix(2_000))")
        #expect(world.alphaUpstream.records.first?.values("Originator") == ["mailto:zed@beta.test"])
    }

    @Test("a certificate for another domain, none, or a bound one for an Originator of another domain: refused, nothing forwarded")
    func otherCertificatesAreRefused() throws {
        let world = try World()
        defer { world.stop() }
        let evil = try world.certificates.issue("gw.evil.test", subjectAltNames: ["DNS:gw.evil.test"])
        let forged = try world.postToBeta(originator: "mailto:alice@alpha.test", client: evil)
        #expect(forged.status == 403 && forged.body.contains("gw.evil.test") && forged.body.contains("verification-failed"), "\(forged)")
        let anonymous = try world.postToBeta(originator: "mailto:alice@alpha.test", client: nil)
        #expect(anonymous.status == 403 && anonymous.body.contains("no verified client certificate"), "\(anonymous)")
        let alphaClient = try world.certificates.issue("gw.alpha.test", subjectAltNames: ["DNS:gw.alpha.test"])
        let elsewhere = try world.postToBeta(originator: "mailto:carol@gamma.test", client: alphaClient)
        #expect(elsewhere.status == 403 && elsewhere.body.contains("verification-failed"), "\(elsewhere)")
        #expect(world.betaUpstream.records.isEmpty)
        // The bound certificate itself is accepted: the refusals above were about the binding.
        let bound = try world.postToBeta(originator: "mailto:alice@alpha.test", client: alphaClient)
        #expect(bound.status == 200 && bound.body.contains("1.2"), "\(bound)")
        #expect(world.betaUpstream.records.count == 1)
    }

    @Test("a TLS-only peer sending the same iSchedule-Message-ID again gets the first answer, delivered once; without one it is refused")
    func certificatePeersGetReplayProtection() throws {
        let world = try World()
        defer { world.stop() }
        let alphaClient = try world.certificates.issue("gw.alpha.test", subjectAltNames: ["DNS:gw.alpha.test"])
        let first = try world.postToBeta(originator: "mailto:alice@alpha.test", client: alphaClient, messageID: "tls-retry-1")
        #expect(first.status == 200 && first.body.contains("1.2"), "\(first)")
        let again = try world.postToBeta(originator: "mailto:alice@alpha.test", client: alphaClient, messageID: "tls-retry-1")
        #expect(again.status == 200 && again.body == first.body, "\(again)")
        #expect(world.betaUpstream.records.count == 1, "forwarded \(world.betaUpstream.records.count) times")
        // Another message id is another message.
        #expect(try world.postToBeta(originator: "mailto:alice@alpha.test", client: alphaClient, messageID: "tls-retry-2").status == 200)
        #expect(world.betaUpstream.records.count == 2)
        let anonymous = try world.postToBeta(originator: "mailto:alice@alpha.test", client: alphaClient, messageID: nil)
        #expect(anonymous.status == 403 && anonymous.body.contains("needs an iSchedule-Message-ID"), "\(anonymous)")
        #expect(world.betaUpstream.records.count == 2)
    }
}
