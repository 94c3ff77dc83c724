import DKIM
import Foundation
import ISchedule
import TestSupport

/// Signs requests as a remote domain would, with the Apple 2048-bit test key.
struct RemoteSigner {
    let signer: DKIMSigner

    init(
        domain: String, selector: String = "s1", methods: [KeyQueryMethod] = [.privateExchange],
        algorithm: SigningAlgorithm = .rsaSHA256, lifetime: Int64 = 3600
    ) throws {
        let key = try RSAPrivateKey(pem: Fixtures.text("apple-test_dkim-rsa2048-private.pem"))
        signer = try DKIMSigner(
            privateKey: key, domain: domain, selector: selector, algorithm: algorithm, queryMethods: methods,
            lifetime: lifetime)
    }

    /// `headers` plus iSchedule-Version, iSchedule-Message-ID, Cache-Control and DKIM-Signature.
    func sign(
        _ headers: [(String, String)], body: [UInt8], messageID: String = UUID().uuidString,
        now: Int64 = Int64(Date().timeIntervalSince1970)
    ) throws -> [(String, String)] {
        var message = HTTPRequestMessage(headers: headers.map { HeaderField(name: $0.0, value: $0.1) }, body: body)
        try signer.sign(&message, now: now, messageID: messageID)
        return message.headers.map { ($0.name, $0.value) }
    }

    /// The private-exchange record of the test key.
    static func keyRecord() throws -> String {
        KeyRecord.text(for: try RSAPrivateKey(pem: Fixtures.text("apple-test_dkim-rsa2048-private.pem")).publicKey)
    }
}

/// One gateway for `beta.test` in front of a recording calendar server, with peers configured for
/// the inbound policy tests. Stopped (SIGTERM) by `stop()`.
final class InboundBed: @unchecked Sendable {
    let upstream: TestCalendarServer
    private(set) var gateway: GatewayProcess
    var port: UInt16 { gateway.ports[0] }
    static let secret = "intake-secret-\u{31}23"

    /// - Parameter limits: `limits:` keys replacing the bed's.
    /// - Parameter upstream: beta.test's upstream instead of the bed's recording server (a real CalDAV server).
    /// - Parameter timeouts: `timeouts:` keys added to the bed's.
    /// - Parameter overrides: keys set over the bed's configuration (more domains, remote domains, `store:`, …).
    init(
        limits: [String: String] = [:], upstream upstreamURL: String? = nil, timeouts: [String: String] = [:],
        overrides: GatewayYAML.Value = [:]
    ) throws {
        upstream = try TestCalendarServer()
        let directory = GatewayProcess.temporaryDirectory("inbound")
        let exchange = directory.appendingPathComponent("private-exchange")
        for domain in ["alpha.test", "other.test", "testing.test"] {
            let folder = exchange.appendingPathComponent(domain)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            // testing.test publishes its key in testing mode (t=y).
            let record = try RemoteSigner.keyRecord().replacingOccurrences(of: "k=rsa;", with: domain == "testing.test" ? "k=rsa; t=y;" : "k=rsa;")
            try (record + "\n").write(to: folder.appendingPathComponent("s1"), atomically: true, encoding: .utf8)
        }
        var configuration = GatewayYAML.local("beta.test", key: "keys/beta.pem", upstream: upstreamURL ?? upstream.url())
        configuration.merge([
            "outbound": ["secret": .scalar(Self.secret)],
            "remote-domains": [
                "unsigned-ok.test": ["allow-unsigned-from": ["127.0.0.1"]], "unsigned-no.test": ["allow-unsigned-from": ["127.0.0.2"]],
                "alias.test": ["signing-domains": ["alpha.test"]]
            ],
            "dkim": ["lookup-methods": ["private-exchange"], "private-exchange-directory": "private-exchange"],
            "log-level": "debug"
        ])
        configuration.set(["max-content-length": "65536", "max-header-count": "50"].merging(limits) { _, new in new }, under: "limits")
        configuration.set(["request-read": "1s"].merging(timeouts) { _, new in new }, under: "timeouts")
        configuration.merge(overrides)
        gateway = try GatewayProcess(configuration: configuration, directory: directory, listeners: 1)
    }

    /// Stops the gateway (SIGTERM) and starts it again on the same configuration and data.
    func restart() throws -> Int32? {
        let status = gateway.stop()
        gateway = try GatewayProcess(
            arguments: ["serve", "--config", gateway.directory.appendingPathComponent("gateway.yaml").path],
            directory: gateway.directory, listeners: 1)
        return status
    }

    /// POSTs to the receiver.
    func post(
        _ headers: [(String, String)], body: [UInt8], path: String = "/.well-known/ischedule",
        source: String = "127.0.0.1"
    ) throws -> RawHTTPResponse {
        try RawHTTPConnection.exchange(port: port, path: path, headers: headers, body: body, source: source)
    }

    /// A signed invitation from alice@alpha.test (or `originator`) to `recipients`.
    func signedInvite(
        to recipients: [String], signer: RemoteSigner? = nil, originator: String = "mailto:alice@alpha.test",
        messageID: String = UUID().uuidString, method: String = "REQUEST"
    ) throws -> (headers: [(String, String)], body: [UInt8]) {
        let body = ITIP.calendar(method: method, organizer: originator, attendees: recipients)
        let headers = [
            ("Originator", originator), ("Recipient", recipients.joined(separator: ",")),
            ("Content-Type", ITIP.contentType(method))
        ]
        return (try (signer ?? RemoteSigner(domain: "alpha.test")).sign(headers, body: body, messageID: messageID), body)
    }

    func stop() -> Int32? {
        let status = gateway.stop()
        upstream.stop()
        return status
    }
}

/// The iSchedule error document's precondition, or nil when the body is not one.
func precondition(of response: RawHTTPResponse) -> String? {
    (try? ErrorDocument(xml: response.body))?.precondition
}

func scheduleResponse(_ response: RawHTTPResponse) -> ScheduleResponse? {
    try? ScheduleResponse(xml: response.body)
}
