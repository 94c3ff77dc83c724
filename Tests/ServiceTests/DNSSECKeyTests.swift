import Foundation
import ISchedule
import TestSupport
import TestTraits
import Testing

/// Inbound keys under `dns.dnssec: validate`, against real parts: partner.test's key published
/// by NSD in a zone signed by ldns-signzone (or the same zone unsigned), unbound validating.
@Suite("DNSSEC-secure keys", .serialized, .waitsOnProcesses)
struct DNSSECKeyTests {
    static func bed(_ signing: TestValidatingDNS.Signing) throws -> (dns: TestValidatingDNS, bed: InboundBed) {
        let zone = zoneHead("partner.test") + "s1._domainkey IN TXT \(zoneTXT(try RemoteSigner.keyRecord()))\n"
        let dns = try TestValidatingDNS(zones: ["partner.test": .init(zone, signing)])
        let bed = try InboundBed(overrides: [
            "dns": ["servers": [.scalar(dns.server)], "dnssec": "validate"],
            "dkim": ["lookup-methods": ["dns/txt", "private-exchange"]],
            "remote-domains": ["partner.test": ["require-dnssec-keys": true]]
        ])
        return (dns, bed)
    }

    static func invite(_ bed: InboundBed) throws -> RawHTTPResponse {
        let signer = try RemoteSigner(domain: "partner.test", methods: [.dnsTXT])
        let (headers, body) = try bed.signedInvite(to: ["mailto:bob@beta.test"], signer: signer, originator: "mailto:pat@partner.test")
        return try bed.post(headers, body: body)
    }

    @Test("a key from a signed zone verifies and is reported DNSSEC-secure (log, metrics)")
    func secureKeyIsReported() throws {
        let (dns, bed) = try Self.bed(.signed)
        defer {
            _ = bed.stop()
            dns.stop()
        }
        let response = try Self.invite(bed)
        #expect(response.status == 200, "\(response.text) \(bed.gateway.log)")
        #expect(bed.upstream.records.count == 1)
        #expect(bed.gateway.log.contains("(d=partner.test, key DNSSEC-secure): HTTP 200"), "\(bed.gateway.log)")
        let metrics = try RawHTTPConnection.exchange(
            port: bed.port, method: "GET", path: "/metrics", headers: [("X-ISchedule-Gateway-Secret", InboundBed.secret)]
        ).text
        #expect(metrics.contains("ischedule_verified_signatures_total{key=\"dnssec\"} 1"), "\(metrics)")
    }

    @Test("require-dnssec-keys refuses the same request when the zone is served unsigned: 403 verification-failed, the reason")
    func insecureKeyIsRefused() throws {
        let (dns, bed) = try Self.bed(.unsigned)
        defer {
            _ = bed.stop()
            dns.stop()
        }
        let response = try Self.invite(bed)
        #expect(response.status == 403, "\(response.text)")
        #expect(precondition(of: response) == "verification-failed")
        #expect(
            response.text.contains(
                "the key s1._domainkey.partner.test came from DNS that is not DNSSEC-validated; remote-domains.partner.test.require-dnssec-keys refuses it"
            ),
            "\(response.text)")
        #expect(bed.upstream.records.isEmpty)
        let metrics = try RawHTTPConnection.exchange(
            port: bed.port, method: "GET", path: "/metrics", headers: [("X-ISchedule-Gateway-Secret", InboundBed.secret)]
        ).text
        #expect(metrics.contains("ischedule_verification_failures_total{reason=\"insecure_key\"} 1"), "\(metrics)")
    }
}
