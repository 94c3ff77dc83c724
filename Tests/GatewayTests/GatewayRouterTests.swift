import DKIM
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ISchedule
import Logging
import TestSupport
import Testing

@testable import Gateway

/// The whole pipeline in process: `GatewayAssembly` builds every stage from a configuration and
/// HummingbirdTesting serves its router on a live loopback port, in front of real recording
/// calendar servers (the local upstream and a remote receiver) and a real SQLite state database.
@Suite(.serialized) struct GatewayRouterTests {
    struct Bed {
        let upstream: TestCalendarServer
        let receiver: TestCalendarServer
        let directory: URL
        let assembly: GatewayAssembly

        init(intakeSecret: String? = nil) throws {
            upstream = try TestCalendarServer()
            receiver = try TestCalendarServer()
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("router-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var yaml = GatewayYAML.local(key: "alpha.pem", upstream: upstream.url())
            yaml.merge([
                "limits": ["max-content-length": 65536], "remote-domains": ["remote.test": ["uri": .scalar(receiver.url()), "tls-policy": "may"]]
            ])
            if intakeSecret != nil { yaml["outbound", "secret-env"] = "ROUTER_TEST_SECRET" }
            let configuration = try ConfigurationLoader.parse(
                yaml: yaml.text, directory: directory.path, environment: intakeSecret.map { ["ROUTER_TEST_SECRET": $0] } ?? [:])
            let keyring = try SigningKeyring.load(configuration) { _ in }
            let store = try SQLiteDeliveryStore(path: configuration.queuePath)
            assembly = GatewayAssembly(
                configuration: configuration, keyring: keyring, store: store,
                ledger: try SQLiteReplayLedger(path: configuration.queuePath), readiness: Readiness(expected: 0),
                logger: Logger(label: "router-test"))
        }

        func run(intake: Bool = true, _ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
            let app = Application(router: assembly.routes.router(intake: intake), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            try await app.test(.live) { client in try await test(client) }
        }

        func stop() {
            assembly.shutdown()
            upstream.stop()
            receiver.stop()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    static func submission(_ recipients: [String], secret: String? = nil) -> (HTTPFields, ByteBuffer) {
        var headers: HTTPFields = [.contentType: ITIP.contentType("REQUEST")]
        headers[HTTPField.Name("Originator")!] = "mailto:alice@alpha.test"
        headers[HTTPField.Name("Recipient")!] = recipients.joined(separator: ", ")
        if let secret { headers[HTTPField.Name("X-ISchedule-Gateway-Secret")!] = secret }
        return (headers, ByteBuffer(bytes: ITIP.calendar(method: "REQUEST", organizer: "mailto:alice@alpha.test", attendees: recipients)))
    }

    @Test func outboundReachesTheUpstreamAndTheRemoteReceiver() async throws {
        let bed = try Bed()
        defer { bed.stop() }
        try await bed.run { client in
            let (headers, body) = Self.submission(["mailto:bob@alpha.test", "mailto:rita@remote.test", "urn:uuid:not-a-mailbox"])
            let response = try await client.execute(uri: "/outbound", method: .post, headers: headers, body: body)
            #expect(response.status == .ok)
            let answer = try ScheduleResponse(xml: Array(response.body.readableBytesView))
            #expect(answer.items.map(\.requestStatus.code) == ["1.2", "1.2", "3.7"], "\(answer.items)")
            // The outbound intake is not the receiver: no iSchedule response headers there.
            #expect(response.headers[HTTPField.Name("iSchedule-Version")!] == nil)
        }
        #expect(bed.upstream.records.map { $0.values("Recipient") } == [["mailto:bob@alpha.test"]])
        let sent = try #require(bed.receiver.records.first)
        #expect(sent.values("Recipient") == ["mailto:rita@remote.test"])
        #expect(sent.values("DKIM-Signature").count == 1 && sent.values("User-Agent") == [GatewayIdentity.userAgent])
    }

    @Test func aListenerWithoutTheIntakeDoesNotServeIt() async throws {
        let bed = try Bed()
        defer { bed.stop() }
        try await bed.run(intake: false) { client in
            let (headers, body) = Self.submission(["mailto:bob@alpha.test"])
            let intake = try await client.execute(uri: "/outbound", method: .post, headers: headers, body: body)
            let receiver = try await client.execute(uri: "/.well-known/ischedule?action=capabilities", method: .get)
            #expect(intake.status == .notFound && receiver.status == .ok)
        }
        #expect(bed.upstream.records.isEmpty)
    }

    @Test func everyReceiverAnswerCarriesTheIScheduleHeaders() async throws {
        let bed = try Bed()
        defer { bed.stop() }
        try await bed.run { client in
            let capabilities = try await client.execute(uri: "/.well-known/ischedule?action=capabilities", method: .get)
            let badQuery = try await client.execute(uri: "/ischedule?action=nonsense", method: .get)
            let (headers, _) = Self.submission(["mailto:bob@alpha.test"])
            var remoteHeaders = headers
            remoteHeaders[HTTPField.Name("Originator")!] = "mailto:eve@remote.test"
            let remoteBody = ByteBuffer(
                bytes: ITIP.calendar(
                    method: "REQUEST", organizer: "mailto:eve@remote.test",
                    attendees: ["mailto:bob@alpha.test"]))
            let unsigned = try await client.execute(uri: "/.well-known/ischedule", method: .post, headers: remoteHeaders, body: remoteBody)
            let oversize = try await client.execute(
                uri: "/ischedule", method: .post, headers: headers,
                body: ByteBuffer(repeating: 0x41, count: 100_000))
            for (response, status) in [(capabilities, 200), (badQuery, 400), (unsigned, 403), (oversize, 413)] {
                #expect(Int(response.status.code) == status)
                #expect(response.headers[HTTPField.Name("iSchedule-Version")!] == "1.0")
                #expect(response.headers[HTTPField.Name("iSchedule-Capabilities")!] == "1")
            }
            #expect(String(buffer: unsigned.body).contains("verification-failed"))
            #expect(String(buffer: oversize.body).contains("max-content-length"))
        }
        #expect(bed.upstream.records.isEmpty)
    }

    @Test func intakeSecretKeysAndHealth() async throws {
        let bed = try Bed(intakeSecret: "s3cret")
        defer { bed.stop() }
        try await bed.run { client in
            let (headers, body) = Self.submission(["mailto:bob@alpha.test"])
            let refused = try await client.execute(uri: "/outbound", method: .post, headers: headers, body: body)
            #expect(refused.status == .forbidden && String(buffer: refused.body).contains("originator-denied"))
            let (signed, _) = Self.submission(["mailto:bob@alpha.test"], secret: "s3cret")
            let accepted = try await client.execute(uri: "/outbound", method: .post, headers: signed, body: body)
            #expect(accepted.status == .ok)
            let key = try await client.execute(uri: "/.well-known/domainkey/alpha.test/gw", method: .get)
            #expect(key.status == .ok && String(buffer: key.body).hasPrefix("v=DKIM1; k=rsa;"))
            let missing = try await client.execute(uri: "/.well-known/domainkey/alpha.test/none", method: .get)
            #expect(missing.status == .notFound)
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok && String(buffer: health.body) == "ready\n")
            // /metrics beside the intake is for its clients: the secret too.
            var secretOnly = HTTPFields()
            secretOnly[HTTPField.Name("X-ISchedule-Gateway-Secret")!] = "s3cret"
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .forbidden)
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get, headers: secretOnly).body)
            #expect(metrics.contains("ischedule_requests_total{direction=\"outbound\",outcome=\"403\"} 1"), "\(metrics)")
            #expect(metrics.contains("ischedule_requests_total{direction=\"outbound\",outcome=\"ok\"} 1"))
            #expect(metrics.contains("ischedule_requests_total{direction=\"domainkey\",outcome=\"404\"} 1"))
        }
        #expect(bed.upstream.records.count == 1)
    }
}
