import DKIM
import Foundation
import TestSupport
import TestTraits
import Testing

@testable import Transport

/// `q=http/well-known` under the signing domain's tls-policy, with real parts: NSD serving zones
/// signed by ldns-signzone (and one unsigned), unbound validating, a key server on loopback https
/// with a self-signed certificate (only DANE can vouch for it).
@Suite(.serialized, .waitsOnProcesses) struct WellKnownKeyPolicyTests {
    static let verify = WellKnownKeyRecordSource.FetchPolicy(name: "verify", allowsPlainHTTP: false)
    static let daneOnly = WellKnownKeyRecordSource.FetchPolicy(name: "dane-only", allowsPlainHTTP: false, usesDANE: true, requiresDANE: true)

    @Test func keyFetchesFollowTheSigningDomainsTLSPolicy() async throws {
        let certificates = try TestCertificates()
        let (cert, key) = try certificates.selfSigned("kx.example", subjectAltNames: ["DNS:kx.example"])
        let (other, _) = try certificates.selfSigned("other.example", subjectAltNames: ["DNS:other.example"])
        let keys = certificates.directory.appendingPathComponent("keys")
        for domain in ["good.test", "wrong.test", "insecure.test"] {
            let folder = keys.appendingPathComponent(domain)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try "v=DKIM1; k=rsa; p=\(Fixtures.publicKeyBase64())\n".write(to: folder.appendingPathComponent("s1"), atomically: true, encoding: .utf8)
        }
        let https = try TestHTTPSServer(cert: cert, key: key, keyDirectory: keys.path)
        defer { https.stop() }
        func zone(_ name: String, tlsa: String) -> String {
            zoneHead(name) + """
                _domainkey_lookup._tcp IN SRV 0 0 \(https.port) kx.\(name).
                kx IN A 127.0.0.1
                _\(https.port)._tcp.kx IN TLSA 3 1 1 \(tlsa)
                _domainkey_lookup._tcp.plain IN SRV 0 0 8080 kx.\(name).
                """
        }
        let right = try TestCertificates.tlsaData(cert)
        let dns = try TestValidatingDNS(zones: [
            "good.test": .init(zone("good.test", tlsa: right), .signed),
            "wrong.test": .init(zone("wrong.test", tlsa: try TestCertificates.tlsaData(other)), .signed),
            "insecure.test": .init(zone("insecure.test", tlsa: right), .unsigned)
        ])
        defer { dns.stop() }
        let resolver = DNSResolver(configuration: .init(servers: [.init(dns.server)!], timeoutSeconds: 2, attempts: 1, validatesDNSSEC: true))
        let client = HTTPClient(
            configuration: HTTPClientConfiguration(caFile: certificates.caFile, connectTimeoutMilliseconds: 2_000), resolver: resolver.hostResolver)
        defer { client.shutdown() }
        func source(_ policy: WellKnownKeyRecordSource.FetchPolicy) -> WellKnownKeyRecordSource {
            WellKnownKeyRecordSource(client: client, resolver: resolver, addressPolicy: .any, revealsFailures: true, policies: { _ in policy })
        }
        func reason(_ policy: WellKnownKeyRecordSource.FetchPolicy, _ domain: String) async -> String {
            let result = await Result { () async throws(KeyLookupError) -> [String] in
                try await source(policy).keyRecords(domain: domain, selector: "s1")
            }
            switch result {
            case .success(let records): return "records: \(records.count)"
            case .failure(let error): return error.reason
            }
        }
        // dane-only: the certificate matches the validated TLSA record: the key is fetched.
        #expect(await reason(Self.daneOnly, "good.test") == "records: 1")
        #expect(https.requests == ["GET /.well-known/domainkey/good.test/s1"])
        // A validated TLSA record for another key: refused, nothing fetched.
        let mismatch = await reason(Self.daneOnly, "wrong.test")
        #expect(mismatch.contains("DANE failure") && mismatch.contains("matches none of its 1 TLSA record"), "\(mismatch)")
        // An unsigned zone has no validated TLSA: dane-only does not fetch from it.
        #expect(
            await reason(Self.daneOnly, "insecure.test")
                == "the key server for insecure.test has no DNSSEC-validated TLSA, which tls-policy dane-only requires")
        // verify: WebPKI, which a self-signed certificate does not pass; plain http is refused outright.
        #expect(await reason(Self.verify, "good.test").contains("TLS failure"))
        #expect(
            await reason(Self.verify, "plain.good.test")
                == "plaintext key fetch refused by tls-policy verify (http://kx.good.test:8080/.well-known/domainkey/plain.good.test/s1)")
        #expect(https.requests == ["GET /.well-known/domainkey/good.test/s1"], "nothing else reached the key server")
    }
}
