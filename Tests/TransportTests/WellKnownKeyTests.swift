import DKIM
import Foundation
import TestSupport
import TestTraits
import Testing

@testable import Transport

/// §13 check 33 for http/well-known, and the SSRF rule: a key fetch never goes to loopback,
/// private or link-local addresses unless the configuration allows it.
@Suite(.serialized, .waitsOnProcesses) struct WellKnownKeyTests {
    static let soa = "@ IN SOA ns a 1 3600 900 1209600 60\n@ IN NS ns\nns IN A 127.0.0.1\n"

    @Test func appleURIVectors() async throws {
        let zone = try Fixtures.text("apple-test-zone-db.example.com.txt")
        let server = try TestDNSServer(zones: ["example.com": zone, "example.org": Self.soa])
        defer { server.stop() }
        let resolver = DNSResolver(configuration: .init(servers: [.init(server.server)!], timeoutSeconds: 1, attempts: 1))
        let source = WellKnownKeyRecordSource(client: HTTPClient(), resolver: resolver)
        let cases = (try Fixtures.json("apple-test_dkim-key-locators.json")["http_well_known_uri"] as! [String: Any])["cases"] as! [[String: String]]
        #expect(cases.count == 3)
        for item in cases {
            #expect(try await source.url(domain: item["d"]!, selector: item["s"]!) == item["uri"]!)
        }
    }

    struct Setup {
        let dns: TestDNSServer
        let https: TestHTTPSServer
        let resolver: DNSResolver
        let client: HTTPClient
        func stop() {
            dns.stop()
            https.stop()
        }
    }

    static func setup() throws -> Setup {
        let certificates = try TestCertificates()
        let (cert, key) = try certificates.issue("localhost", subjectAltNames: ["DNS:localhost", "IP:127.0.0.1"])
        let keys = certificates.directory.appendingPathComponent("keys/example.com")
        try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true)
        try "v=DKIM1; k=rsa; s=ischedule; p=\(Fixtures.publicKeyBase64())\n".write(
            to: keys.appendingPathComponent("ischedule"),
            atomically: true, encoding: .utf8)
        try "v=DKIM1; p=\(Fixtures.publicKeyBase64())\n".write(to: keys.appendingPathComponent("json"), atomically: true, encoding: .utf8)
        let https = try TestHTTPSServer(cert: cert, key: key, keyDirectory: certificates.directory.appendingPathComponent("keys").path)
        let dns = try TestDNSServer(zones: ["example.com": soa + "_domainkey_lookup._tcp IN SRV 0 0 \(https.port) localhost.\n"])
        let resolver = DNSResolver(configuration: .init(servers: [.init(dns.server)!], timeoutSeconds: 1, attempts: 1))
        return Setup(
            dns: dns, https: https, resolver: resolver,
            client: HTTPClient(configuration: HTTPClientConfiguration(caFile: certificates.caFile)))
    }

    @Test func vectorVerifiesWithTheKeyServedOverHTTPS() async throws {
        let setup = try Self.setup()
        defer { setup.stop() }
        let source = WellKnownKeyRecordSource(client: setup.client, resolver: setup.resolver, addressPolicy: .any)
        let verifier = DKIMVerifier(keys: KeyLocator(sources: [.httpWellKnown: source]), clock: FixedUnixClock(1_700_000_100))
        let request = try HTTPRequestMessage(parsing: Fixtures.bytes("derived-ischedule-request-A-rsa-sha256.http"))
        let verified = try await verifier.verify(request)
        #expect(verified.keyMethod == .httpWellKnown)
        #expect(setup.https.requests == ["GET /.well-known/domainkey/example.com/ischedule"])
        #expect(try await source.keyRecords(domain: "example.com", selector: "absent").isEmpty)
        await #expect { try await source.keyRecords(domain: "example.com", selector: "json") } throws: { error in
            (error as? KeyLookupError)?.reason.hasSuffix("Content-Type 'application/json' is not text/plain") == true
        }
    }

    @Test func loopbackKeyURLIsRefusedByDefault() async throws {
        let setup = try Self.setup()
        defer { setup.stop() }
        let source = WellKnownKeyRecordSource(client: setup.client, resolver: setup.resolver)
        let verifier = DKIMVerifier(keys: KeyLocator(sources: [.httpWellKnown: source]), clock: FixedUnixClock(1_700_000_100))
        let request = try HTTPRequestMessage(parsing: Fixtures.bytes("derived-ischedule-request-A-rsa-sha256.http"))
        do {
            _ = try await verifier.verify(request)
            Issue.record("verified through a loopback key URL")
        } catch {
            // One reason for every connection failure: a refused address reads like a closed port.
            #expect(error.isTemporary)
            #expect(error.description.contains("the key server for example.com could not be reached"), "\(error)")
        }
        let revealing = WellKnownKeyRecordSource(client: setup.client, resolver: setup.resolver, revealsFailures: true)
        await #expect { try await revealing.keyRecords(domain: "example.com", selector: "ischedule") } throws: { error in
            (error as? KeyLookupError)?.reason.contains("refused to connect: localhost resolves only to refused addresses") == true
        }
        #expect(setup.https.requests.isEmpty)
    }
}
