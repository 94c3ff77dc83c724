import DKIM
import Foundation
import TestSupport
import TestTraits
import Testing

@testable import Transport

/// §13 check 33 for dns/txt: the verifier finds keys at `<s>._domainkey.<d>` on a real DNS server.
@Suite(.serialized, .waitsOnProcesses) struct DNSKeyLookupTests {
    static func zone() throws -> String {
        let p = try Fixtures.publicKeyBase64()
        let record = "v=DKIM1; k=rsa; s=ischedule; p=\(p)"
        return """
            @ IN SOA ns.example.com. admin.example.com. 1 3600 900 1209600 60
            @ IN NS ns.example.com.
            ns IN A 127.0.0.1
            ischedule._domainkey IN TXT \(zoneTXT(record, chunk: 200))
            _revoked._domainkey IN TXT "v=DKIM1; p="
            """
    }

    static func verifier(_ server: String, at time: Int64 = 1_700_000_100) -> DKIMVerifier {
        let resolver = DNSResolver(configuration: DNSResolverConfiguration(servers: [.init(server)!], timeoutSeconds: 1, attempts: 1))
        // Vector B is rsa-sha1: the legacy policy accepts it (the default refuses it, RFC 8301).
        return DKIMVerifier(
            keys: KeyLocator(sources: [.dnsTXT: DNSKeyRecordSource(resolver: resolver)]), policy: .legacyInterop,
            clock: FixedUnixClock(time))
    }

    static func request(_ name: String) throws -> HTTPRequestMessage {
        try HTTPRequestMessage(parsing: Fixtures.bytes(name))
    }

    @Test func vectorsVerifyWithTheKeyPublishedInDNS() async throws {
        let server = try TestDNSServer(zones: ["example.com": Self.zone()])
        defer { server.stop() }
        for file in ["derived-ischedule-request-A-rsa-sha256.http", "derived-ischedule-request-B-rsa-sha1.http"] {
            let verified = try await Self.verifier(server.server).verify(Self.request(file))
            #expect(verified.keyMethod == .dnsTXT && verified.keyBits == 2048)
        }
    }

    @Test func revokedMissingAndUnreachableKeysFailAsTheyShould() async throws {
        let server = try TestDNSServer(zones: ["example.com": Self.zone()])
        defer { server.stop() }
        var request = try Self.request("derived-ischedule-request-B-rsa-sha1.http")
        let value = request.headers.values(named: "DKIM-Signature")[0]
        func resigned(_ selector: String) -> HTTPRequestMessage {
            var copy = request
            copy.headers.removeAll(named: "DKIM-Signature")
            copy.headers.append(HeaderField(name: "DKIM-Signature", value: value.replacingOccurrences(of: "s=ischedule", with: "s=\(selector)")))
            return copy
        }
        await #expect(throws: DKIMFailure.keyRevoked(domain: "example.com", selector: "_revoked")) {
            try await Self.verifier(server.server).verify(resigned("_revoked"))
        }
        await #expect(throws: DKIMFailure.keyNotFound(domain: "example.com", selector: "absent", methods: [.dnsTXT])) {
            try await Self.verifier(server.server).verify(resigned("absent"))
        }
        request = resigned("ischedule")
        do {
            _ = try await Self.verifier("127.0.0.1:\(freeLoopbackPort())").verify(request)
            Issue.record("expected a temporary failure")
        } catch {
            #expect(error.isTemporary, "\(error)")
        }
    }
}
