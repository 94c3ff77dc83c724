import DKIM
import Foundation
import ISchedule
import TestSupport
import TestTraits
import Testing

/// Forwarding to several upstreams, each with its own trust: nothing (loopback), a shared-secret
/// header, a DKIM signature with a private-exchange key; their answers merged in request order.
@Suite("Upstream trust", .waitsOnProcesses)
struct UpstreamTrustTests {
    @Test("one POST, four upstreams: merged answer, the secret header, a verifiable re-signature, a relayed refusal")
    func trusts() async throws {
        let upstreamKey = try RSAPrivateKey.generate(bits: 2048)
        let directory = GatewayProcess.temporaryDirectory("trust")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try upstreamKey.pkcs8PEM.write(to: directory.appendingPathComponent("upstream.pem"), atomically: true, encoding: .utf8)
        let secret = "shared-\(UUID().uuidString)"
        let calendar = try TestCalendarServer()
        defer { calendar.stop() }
        let gateway = try GatewayProcess(
            configuration: """
                listeners:
                  - url: http://127.0.0.1:0
                domains:
                  beta.test:
                    upstream: \(calendar.url("/beta"))
                  gamma.test:
                    upstream: \(calendar.url("/gamma"))
                    upstream-trust: shared-secret
                    upstream-secret-env: GATEWAY_TEST_UPSTREAM_SECRET
                  delta.test:
                    upstream: \(calendar.url("/delta"))
                    upstream-trust: dkim
                    upstream-dkim-domain: gateway.beta.test
                    upstream-dkim-key:
                      selector: fwd
                      private-key: upstream.pem
                  refusing.test:
                    upstream: \(calendar.url("/status/403"))
                remote-domains:
                  unsigned-ok.test:
                    allow-unsigned-from: [127.0.0.1]
                """, directory: directory, listeners: 1, environment: ["GATEWAY_TEST_UPSTREAM_SECRET": secret])
        defer { gateway.stop() }
        let recipients = ["mailto:d@delta.test", "mailto:b@beta.test", "mailto:r@refusing.test", "mailto:g@gamma.test"]
        let body = ITIP.calendar(method: "REQUEST", organizer: "mailto:ann@unsigned-ok.test", attendees: recipients)
        let headers = [
            ("Originator", "mailto:ann@unsigned-ok.test"), ("Recipient", recipients.joined(separator: ", ")),
            ("Content-Type", ITIP.contentType("REQUEST"))
        ]
        let response = try RawHTTPConnection.exchange(port: gateway.ports[0], path: "/ischedule", headers: headers, body: body)
        let items = try #require(scheduleResponse(response)?.items)
        #expect(items.map(\.recipient) == recipients)
        #expect(items.map(\.requestStatus.code) == ["1.2", "1.2", "5.0", "1.2"], "\(response.text)")

        let records = Dictionary(calendar.records.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(Set(records.keys) == ["/beta", "/gamma", "/delta", "/status/403"])
        #expect(records["/beta"]?.values("X-ISchedule-Gateway-Upstream") == [])
        #expect(records["/beta"]?.values("DKIM-Signature") == [])
        #expect(records["/gamma"]?.values("X-ISchedule-Gateway-Upstream") == [secret])
        let signed = try #require(records["/delta"])
        #expect(signed.values("Recipient") == ["mailto:d@delta.test"])
        let verifier = DKIMVerifier(
            keys: KeyLocator(sources: [.privateExchange: FixedKeyRecords(records: [KeyRecord.text(for: upstreamKey.publicKey)])]))
        let verified = try await verifier.verify(
            headers: signed.headers.map { HeaderField(name: $0.name, value: $0.value) },
            body: Array(signed.body.utf8))
        #expect(verified.domain == "gateway.beta.test" && verified.selector == "fwd")
        #expect(!gateway.log.contains(secret))

        // With only the refusing upstream involved, its refusal is relayed as it is.
        let alone = try RawHTTPConnection.exchange(
            port: gateway.ports[0], path: "/ischedule",
            headers: [
                ("Originator", "mailto:ann@unsigned-ok.test"), ("Recipient", "mailto:r@refusing.test"), ("Content-Type", ITIP.contentType("REQUEST"))
            ],
            body: ITIP.calendar(method: "REQUEST", organizer: "mailto:ann@unsigned-ok.test", attendees: ["mailto:r@refusing.test"]))
        #expect(alone.status == 403)
        #expect(precondition(of: alone) == "invalid-scheduling-message")
        #expect(alone.values("iSchedule-Version") == ["1.0"])
    }
}
