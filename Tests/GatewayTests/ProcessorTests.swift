import DKIM
import Foundation
import ISchedule
import Logging
import TestSupport
import Testing
import Transport

@testable import Gateway

/// A fake `KeyRecordSource` (named as one): the key records it was given, by domain and selector.
struct KeyRecordSourceFake: KeyRecordSource {
    let records: [String: String]
    /// Reports its records DNSSEC-secure, as validated DNS would.
    var secure = false
    func keyRecords(domain: String, selector: String) async throws(KeyLookupError) -> [String] {
        records["\(domain)/\(selector)"].map { [$0] } ?? []
    }
    func securedKeyRecords(domain: String, selector: String) async throws(KeyLookupError) -> (records: [String], secure: Bool) {
        (try await keyRecords(domain: domain, selector: selector), secure)
    }
}

/// The processors' decisions on their own: `InboundProcessor` (who may send, the signing domain,
/// no relaying, delivery by e-mail, replays) and `OutboundProcessor` (who may submit, one answer
/// per recipient in request order, what is queued), with fakes for the key source, the store and
/// the transport, and a fixed clock. No test here reaches an upstream: those that do are
/// GatewayRouterTests and the service tests.
@Suite("Processors")
struct ProcessorTests {
    typealias F = DecisionFixtures
    static let key = try! RSAPrivateKey(pem: Fixtures.text("apple-test_dkim-rsa2048-private.pem"))
    static let logger = Logger(label: "processor-test")

    struct Bed {
        let configuration: GatewayConfiguration
        let store = DeliveryStoreFake()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("processors-\(UUID().uuidString.prefix(8))")

        init() throws {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            configuration = try ConfigurationLoader.parse(
                yaml: """
                    listeners:
                      - url: http://127.0.0.1:1
                    domains:
                      beta.test:
                        upstream: http://127.0.0.1:9/
                      mail.test:
                        delivery: imip
                    imip:
                      smtp-url: smtp://127.0.0.1:9
                      from: calendar-gateway@mail.test
                      require-tls: false
                    outbound:
                      allow-from: [127.0.0.1]
                    remote-domains:
                      unsigned-ok.test:
                        allow-unsigned-from: [192.0.2.7]
                    """, directory: directory.path)
        }

        var hosted: HostedDelivery {
            HostedDelivery(
                forwarder: UpstreamForwarder(client: HTTPClient(), signers: [:], clock: F.clock, metrics: GatewayMetrics()),
                configuration: configuration, logger: ProcessorTests.logger)
        }

        func inbound(secureKeys: Bool = false) throws -> InboundProcessor {
            let keys = KeyLocator(sources: [
                .dnsTXT: KeyRecordSourceFake(records: ["alpha.test/s1": KeyRecord.text(for: ProcessorTests.key.publicKey)], secure: secureKeys)
            ])
            let verifier = DKIMVerifier(keys: keys, policy: .iSchedule, clock: F.clock.unix)
            let ledger = try SQLiteReplayLedger(path: directory.appendingPathComponent("ledger.sqlite").path)
            return InboundProcessor(
                verifier: verifier, draft01Verifier: verifier,
                replay: ReplayProtection(cache: ReplayCache(capacity: 100), ledger: ledger, clock: F.clock, logger: ProcessorTests.logger),
                hosted: hosted, mailed: MailedDelivery(settings: configuration.imip, store: store, clock: F.clock, logger: ProcessorTests.logger),
                freeBusy: CalDAVFreeBusy(
                    client: HTTPClient(), domains: configuration.domains, timeout: .seconds(1), clock: F.clock,
                    logger: ProcessorTests.logger),
                capabilities: AdvertisedCapabilities.make(for: configuration), localDomains: hosted.domains,
                remotes: Dictionary(configuration.remotes.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }),
                limits: configuration.limits, metrics: GatewayMetrics(), logger: ProcessorTests.logger)
        }

        func outbound(_ transport: DeliveryTransportFake) -> OutboundProcessor {
            let circuit = CircuitBreaker(threshold: 5, cooldownMilliseconds: 60_000)
            let handoff = QueueHandoff(
                store: store, policy: F.policy, mailsFallbacks: false, clock: F.clock, metrics: GatewayMetrics(),
                logger: ProcessorTests.logger)
            let live = LiveAttempt(
                transport: transport, handoff: handoff,
                conclusion: AttemptConclusion(policy: F.policy, mailsFallbacks: false, clock: F.clock, metrics: GatewayMetrics()),
                circuit: circuit, store: store, owner: "processor-test", answerWithin: .seconds(10),
                leaseMilliseconds: 300_000, transfers: LiveTransfers(), logger: ProcessorTests.logger)
            return OutboundProcessor(
                intake: OutboundIntake(intake: configuration.intake), signingDomains: ["alpha.test"],
                localDomains: hosted.domains, hosted: hosted, remote: live, logger: ProcessorTests.logger)
        }
    }

    static func request(
        from originator: String, to recipients: [String], signedBy domain: String? = nil,
        peer: String = "192.0.2.9", messageID: String = UUID().uuidString
    ) throws -> IncomingRequest {
        let body = ITIP.calendar(method: "REQUEST", organizer: originator, attendees: recipients)
        var message = HTTPRequestMessage(
            headers: [
                HeaderField(name: "Originator", value: originator), HeaderField(name: "Recipient", value: recipients.joined(separator: ", ")),
                HeaderField(name: "Content-Type", value: ITIP.contentType("REQUEST"))
            ], body: body)
        if let domain {
            let signer = try DKIMSigner(privateKey: key, domain: domain, selector: "s1")
            try signer.sign(&message, now: F.clock.seconds, messageID: messageID)
        }
        return IncomingRequest(headers: message.headers, body: body, peer: peer)
    }

    static func codes(_ response: GatewayResponse) -> [String]? {
        guard response.status == 200, let answer = try? ScheduleResponse(xml: response.body) else { return nil }
        return answer.items.map(\.requestStatus.code)
    }

    @Test("inboundTakesUnsignedRequestsOnlyFromAllowListedPeers: a stranger's unsigned request is refused before its calendar is read")
    func inboundTakesUnsignedRequestsOnlyFromAllowListedPeers() async throws {
        let bed = try Bed()
        let inbound = try bed.inbound()
        let stranger = await inbound.handle(try Self.request(from: "mailto:eve@unsigned-ok.test", to: ["mailto:maria@mail.test"]))
        #expect(stranger.status == 403 && Self.codes(stranger) == nil && bed.store.enqueued.isEmpty)
        let allowed = await inbound.handle(
            try Self.request(
                from: "mailto:eve@unsigned-ok.test", to: ["mailto:maria@mail.test"],
                peer: "192.0.2.7"))
        #expect(Self.codes(allowed) == ["1.1"] && bed.store.enqueued.map(\.kind) == [.mail])
        let mail = String(decoding: try #require(bed.store.enqueued.first).body, as: UTF8.self)
        #expect(mail.hasPrefix("Authentication-Results: mail.test; dkim=none (unsigned iSchedule request from allow-listed peer 192.0.2.7)"))
    }

    @Test("inboundBindsTheSigningDomainToTheOriginator: a valid signature by another domain is refused; our own domains never arrive from outside")
    func inboundBindsTheSigningDomainToTheOriginator() async throws {
        let bed = try Bed()
        let inbound = try bed.inbound()
        let foreign = await inbound.handle(try Self.request(from: "mailto:eve@other.test", to: ["mailto:maria@mail.test"], signedBy: "alpha.test"))
        #expect(foreign.status == 403)
        let ours = await inbound.handle(try Self.request(from: "mailto:bob@beta.test", to: ["mailto:maria@mail.test"], signedBy: "alpha.test"))
        #expect(ours.status == 403 && bed.store.enqueued.isEmpty)
    }

    @Test("inboundNeverRelaysAndAnswersInRequestOrder: a recipient not hosted here is 3.7, ours by e-mail 1.1; a replay is not delivered again")
    func inboundNeverRelaysAndAnswersInRequestOrder() async throws {
        let bed = try Bed()
        let inbound = try bed.inbound()
        let signed = try Self.request(
            from: "mailto:ann@alpha.test", to: ["mailto:x@elsewhere.test", "mailto:maria@mail.test"], signedBy: "alpha.test")
        let answer = await inbound.handle(signed)
        #expect(Self.codes(answer) == ["3.7", "1.1"])
        #expect(bed.store.enqueued.map(\.recipients) == [["mailto:maria@mail.test"]])
        let mail = String(decoding: try #require(bed.store.enqueued.first).body, as: UTF8.self)
        #expect(mail.hasPrefix("Authentication-Results: mail.test; dkim=pass (iSchedule request signature) header.d=alpha.test header.s=s1"))
        _ = await inbound.handle(signed)
        #expect(bed.store.enqueued.count == 1)
    }

    @Test("authenticationResultsSayWhetherTheKeyWasDNSSECSecure: a key from validated DNS is named so in the mailed message")
    func authenticationResultsSayWhetherTheKeyWasDNSSECSecure() async throws {
        let bed = try Bed()
        let inbound = try bed.inbound(secureKeys: true)
        let signed = try Self.request(from: "mailto:ann@alpha.test", to: ["mailto:maria@mail.test"], signedBy: "alpha.test")
        #expect(Self.codes(await inbound.handle(signed)) == ["1.1"])
        let mail = String(decoding: try #require(bed.store.enqueued.first).body, as: UTF8.self)
        #expect(
            mail.hasPrefix(
                "Authentication-Results: mail.test; dkim=pass (iSchedule request signature; key from DNSSEC-validated DNS) header.d=alpha.test header.s=s1"
            ), "\(mail.prefix(300))")
    }

    @Test("outboundServesOnlyTheLocalServerAndItsDomains: a peer not allow-listed, or an Originator we do not sign for, is refused")
    func outboundServesOnlyTheLocalServerAndItsDomains() async throws {
        let bed = try Bed()
        let transport = DeliveryTransportFake()
        let outbound = bed.outbound(transport)
        let stranger = await outbound.handle(try Self.request(from: "mailto:ann@alpha.test", to: ["mailto:r@remote.test"], peer: "192.0.2.9"))
        let foreign = await outbound.handle(try Self.request(from: "mailto:eve@other.test", to: ["mailto:r@remote.test"], peer: "127.0.0.1"))
        #expect(stranger.status == 403 && foreign.status == 403 && transport.calls.isEmpty)
    }

    @Test("outboundAnswersEveryRecipientInRequestOrder: not an address 3.7, ours without an upstream 3.7, delivered 1.2, queued 1.0")
    func outboundAnswersEveryRecipientInRequestOrder() async throws {
        let bed = try Bed()
        let transport = DeliveryTransportFake(["mailto:q@slow.test": .serviceUnavailable])
        let outbound = bed.outbound(transport)
        let recipients = ["urn:uuid:not-a-mailbox", "mailto:maria@mail.test", "mailto:r@remote.test", "mailto:q@slow.test"]
        let answer = await outbound.handle(try Self.request(from: "mailto:ann@alpha.test", to: recipients, peer: "127.0.0.1"))
        #expect(Self.codes(answer) == ["3.7", "3.7", "1.2", "1.0"])
        #expect(transport.calls == [["mailto:r@remote.test", "mailto:q@slow.test"]])
        #expect(bed.store.enqueued.map(\.domain) == ["slow.test"] && bed.store.enqueued.first?.recipients == ["mailto:q@slow.test"])
    }
}
